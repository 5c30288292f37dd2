package io.lovage.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CPU time (user + system, as {@code /proc/<pid>/stat} counts it) that the processes of a
 * throughput run used: the worker JVMs, this bench's own JVM (whose {@code TaskClient} publishes
 * the tasks) and the RabbitMQ nodes running here ({@code beam.smp}). Divided by the tasks run, it
 * says what a task costs each side, which a rate cannot: on 2 cores shared by all three, a rate
 * moves with whatever else the machine did, while CPU per task barely does.
 *
 * <p>Of the JVMs' CPU, the part their JIT compiler threads used is counted as well ({@code
 * /proc/<pid>/task/<tid>/stat} of the threads named {@code C1 CompilerThre…} and {@code C2
 * CompilerThre…}): a JVM that still compiles its hot code is not yet in its steady state, and on 2
 * cores its compiler takes the CPU from everything else.
 *
 * <p>The broker's share is missing when RabbitMQ does not run on this machine (no {@code beam.smp}
 * among its processes); a share is left out when one of its nodes exited meanwhile (a cluster node
 * restarted), rather than fail the row it only annotates.
 */
final class CpuUse {
  private final List<ProcessHandle> workers;
  private final List<ProcessHandle> brokers;
  private final Optional<Duration> workersBefore;
  private final Optional<Duration> clientBefore;
  private final Optional<Duration> brokersBefore;
  private final Optional<Duration> workersJitBefore;
  private final Optional<Duration> clientJitBefore;

  private CpuUse(List<ProcessHandle> workers) {
    this.workers = workers;
    this.brokers = brokers();
    this.workersBefore = sum(workers);
    this.clientBefore = cpu(ProcessHandle.current());
    this.brokersBefore = sum(brokers);
    this.workersJitBefore = jitSum(workers);
    this.clientJitBefore = jit(ProcessHandle.current());
  }

  /**
   * The RabbitMQ nodes running here: the Erlang VMs started with {@code -s rabbit boot}, not the
   * short-lived ones of {@code rabbitmqctl} and the other CLI tools, which would drop the broker's
   * share from a row when they exit during it. Every Erlang VM if none shows its arguments.
   */
  private static List<ProcessHandle> brokers() {
    List<ProcessHandle> erlang =
        ProcessHandle.allProcesses()
            .filter(p -> p.info().command().map(c -> c.endsWith("beam.smp")).orElse(false))
            .filter(p -> p.info().totalCpuDuration().isPresent())
            .toList();
    List<ProcessHandle> nodes =
        erlang.stream().filter(p -> commandLine(p).contains(" -s rabbit boot ")).toList();
    return nodes.isEmpty() ? erlang : nodes;
  }

  /**
   * A process's arguments from {@code /proc/<pid>/cmdline}, separated by spaces; empty if it cannot
   * be read. (Java's {@code ProcessHandle.Info.arguments} stops at the first empty argument, and
   * RabbitMQ's command line has one before {@code -s rabbit boot}.)
   */
  private static String commandLine(ProcessHandle process) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", String.valueOf(process.pid()), "cmdline"));
      return new String(raw, java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** Starts counting the CPU these workers, this JVM and the local broker use from now on. */
  static CpuUse of(List<LovageApp> workers) {
    return new CpuUse(workers.stream().map(w -> w.child().process().toHandle()).toList());
  }

  /**
   * CPU milliseconds per 1,000 tasks since {@link #of}: {@code workerCpuMsPer1000}, {@code
   * clientCpuMsPer1000}, the part of each their JIT compiler used ({@code workerJitCpuMsPer1000},
   * {@code clientJitCpuMsPer1000}) and, with a local broker, {@code brokerCpuMsPer1000}.
   */
  Map<String, Object> per1000(int tasks) {
    Map<String, Object> raw = new LinkedHashMap<>();
    since(workersBefore, sum(workers), tasks).ifPresent(ms -> raw.put(WORKER, ms));
    since(workersJitBefore, jitSum(workers), tasks).ifPresent(ms -> raw.put(WORKER_JIT, ms));
    since(clientBefore, cpu(ProcessHandle.current()), tasks).ifPresent(ms -> raw.put(CLIENT, ms));
    since(clientJitBefore, jit(ProcessHandle.current()), tasks)
        .ifPresent(ms -> raw.put(CLIENT_JIT, ms));
    if (!brokers.isEmpty()) {
      since(brokersBefore, sum(brokers), tasks).ifPresent(ms -> raw.put(BROKER, ms));
    }
    return raw;
  }

  static final String WORKER = "workerCpuMsPer1000";
  static final String CLIENT = "clientCpuMsPer1000";
  static final String BROKER = "brokerCpuMsPer1000";
  static final String WORKER_JIT = "workerJitCpuMsPer1000";
  static final String CLIENT_JIT = "clientJitCpuMsPer1000";

  /** Every key {@link #per1000} may answer. */
  static final List<String> KEYS = List.of(WORKER, WORKER_JIT, CLIENT, CLIENT_JIT, BROKER);

  /**
   * {@code "CPU ms per 1,000 tasks: worker 210 (JIT 12), client 150 (JIT 3), broker 300"}, from
   * {@link #per1000}.
   */
  static String describe(Map<String, Object> per1000) {
    return String.format(
        "CPU ms per 1,000 tasks: worker %s%s, client %s%s, broker %s",
        Optional.ofNullable(per1000.get(WORKER)).orElse("unknown"),
        jitPart(per1000.get(WORKER_JIT)),
        Optional.ofNullable(per1000.get(CLIENT)).orElse("unknown"),
        jitPart(per1000.get(CLIENT_JIT)),
        Optional.ofNullable(per1000.get(BROKER)).orElse("not here"));
  }

  /**
   * Whether the JIT compilers used over a tenth of the workers' and the client's CPU in {@link
   * #per1000}'s answer.
   */
  static boolean compiling(Map<String, Object> per1000) {
    long all = 0;
    long jit = 0;
    for (String key : List.of(WORKER, CLIENT)) {
      if (per1000.get(key) instanceof Long ms) {
        all += ms;
      }
    }
    for (String key : List.of(WORKER_JIT, CLIENT_JIT)) {
      if (per1000.get(key) instanceof Long ms) {
        jit += ms;
      }
    }
    return compiling(all, jit);
  }

  /**
   * Whether a JVM is still warming up: its JIT compilers used over a tenth of its CPU. On 2 cores a
   * compiler takes its CPU from everything else measured.
   */
  static boolean compiling(long cpuMillis, long jitMillis) {
    return jitMillis * 10 > cpuMillis;
  }

  /** {@code " (JIT 12)"}, or nothing when the JIT's share is not known. */
  static String jitPart(Object ms) {
    return ms == null ? "" : " (JIT " + ms + ")";
  }

  /** Empty when a process's CPU time could not be read at either end (it had exited). */
  private static Optional<Long> since(
      Optional<Duration> before, Optional<Duration> after, int tasks) {
    if (before.isEmpty() || after.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(Math.round(after.get().minus(before.get()).toNanos() / 1e6 * 1000 / tasks));
  }

  private static Optional<Duration> sum(List<ProcessHandle> processes) {
    return sum(processes, CpuUse::cpu);
  }

  private static Optional<Duration> jitSum(List<ProcessHandle> processes) {
    return sum(processes, CpuUse::jit);
  }

  private static Optional<Duration> sum(
      List<ProcessHandle> processes,
      java.util.function.Function<ProcessHandle, Optional<Duration>> of) {
    Duration total = Duration.ZERO;
    for (ProcessHandle process : processes) {
      Optional<Duration> cpu = of.apply(process);
      if (cpu.isEmpty()) {
        return Optional.empty();
      }
      total = total.plus(cpu.get());
    }
    return Optional.of(total);
  }

  /** A quarter second: how long {@link #awaitQuiet} measures at a time. */
  private static final Duration QUIET_WINDOW = Duration.ofMillis(250);

  /**
   * Waits, at most {@code max}, until the local broker and {@code processes} together use under a
   * fifth of a core over {@link #QUIET_WINDOW}: what a run left behind (RabbitMQ cleaning up a
   * purged quorum queue took about a core for a second here) is then not counted in, nor slows, the
   * next run.
   */
  static void awaitQuiet(List<ProcessHandle> processes, Duration max) {
    List<ProcessHandle> watched = new java.util.ArrayList<>(brokers());
    watched.addAll(processes);
    long deadline = System.nanoTime() + max.toNanos();
    Optional<Duration> before = sum(watched);
    while (before.isPresent() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(QUIET_WINDOW);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      Optional<Duration> after = sum(watched);
      if (after.isEmpty()
          || after.get().minus(before.get()).compareTo(QUIET_WINDOW.dividedBy(5)) < 0) {
        return;
      }
      before = after;
    }
  }

  static Optional<Duration> cpu(ProcessHandle process) {
    return process.info().totalCpuDuration();
  }

  /**
   * The CPU time of a JVM's JIT compiler threads, from {@code /proc}; empty where there is no
   * {@code /proc} or the process exited.
   */
  static Optional<Duration> jit(ProcessHandle process) {
    Path tasks = Path.of("/proc", String.valueOf(process.pid()), "task");
    long ticks = 0;
    try (var threads = Files.list(tasks)) {
      for (Path thread : (Iterable<Path>) threads::iterator) {
        String stat;
        try {
          stat = Files.readString(thread.resolve("stat"));
        } catch (IOException ended) {
          continue;
        }
        // pid (comm) state ppid …: comm may hold spaces, so the fields are counted after its ')'.
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open) {
          continue;
        }
        String comm = stat.substring(open + 1, close);
        if (!comm.startsWith("C1 CompilerThre") && !comm.startsWith("C2 CompilerThre")) {
          continue;
        }
        String[] fields = stat.substring(close + 2).split(" ");
        // utime and stime are the 14th and 15th fields; fields[0] is the 3rd (state).
        ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      }
    } catch (IOException | RuntimeException notReadable) {
      return Optional.empty();
    }
    return Optional.of(Duration.ofMillis(ticks * 1000 / CLOCK_TICKS_PER_SECOND));
  }

  /** {@code getconf CLK_TCK}: 100 on every Linux this bench runs on. */
  private static final long CLOCK_TICKS_PER_SECOND = 100;
}
