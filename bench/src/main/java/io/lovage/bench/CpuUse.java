package io.lovage.bench;

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
 * <p>The broker's share is missing when RabbitMQ does not run on this machine (no {@code beam.smp}
 * among its processes); a share is left out when one of its processes exited meanwhile (a cluster
 * node restarted), rather than fail the row it only annotates.
 */
final class CpuUse {
  private final List<ProcessHandle> workers;
  private final List<ProcessHandle> brokers;
  private final Optional<Duration> workersBefore;
  private final Optional<Duration> clientBefore;
  private final Optional<Duration> brokersBefore;

  private CpuUse(List<ProcessHandle> workers) {
    this.workers = workers;
    this.brokers =
        ProcessHandle.allProcesses()
            .filter(p -> p.info().command().map(c -> c.endsWith("beam.smp")).orElse(false))
            .filter(p -> p.info().totalCpuDuration().isPresent())
            .toList();
    this.workersBefore = sum(workers);
    this.clientBefore = cpu(ProcessHandle.current());
    this.brokersBefore = sum(brokers);
  }

  /** Starts counting the CPU these workers, this JVM and the local broker use from now on. */
  static CpuUse of(List<LovageApp> workers) {
    return new CpuUse(workers.stream().map(w -> w.child().process().toHandle()).toList());
  }

  /**
   * CPU milliseconds per 1,000 tasks since {@link #of}: {@code workerCpuMsPer1000}, {@code
   * clientCpuMsPer1000} and, with a local broker, {@code brokerCpuMsPer1000}.
   */
  Map<String, Object> per1000(int tasks) {
    Map<String, Object> raw = new LinkedHashMap<>();
    since(workersBefore, sum(workers), tasks).ifPresent(ms -> raw.put(WORKER, ms));
    since(clientBefore, cpu(ProcessHandle.current()), tasks).ifPresent(ms -> raw.put(CLIENT, ms));
    if (!brokers.isEmpty()) {
      since(brokersBefore, sum(brokers), tasks).ifPresent(ms -> raw.put(BROKER, ms));
    }
    return raw;
  }

  static final String WORKER = "workerCpuMsPer1000";
  static final String CLIENT = "clientCpuMsPer1000";
  static final String BROKER = "brokerCpuMsPer1000";

  /** {@code "worker 210, client 150, broker 300 CPU ms per 1,000 tasks"}, from {@link #per1000}. */
  static String describe(Map<String, Object> per1000) {
    return String.format(
        "CPU ms per 1,000 tasks: worker %s, client %s, broker %s",
        Optional.ofNullable(per1000.get(WORKER)).orElse("unknown"),
        Optional.ofNullable(per1000.get(CLIENT)).orElse("unknown"),
        Optional.ofNullable(per1000.get(BROKER)).orElse("not here"));
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
    Duration total = Duration.ZERO;
    for (ProcessHandle process : processes) {
      Optional<Duration> cpu = cpu(process);
      if (cpu.isEmpty()) {
        return Optional.empty();
      }
      total = total.plus(cpu.get());
    }
    return Optional.of(total);
  }

  private static Optional<Duration> cpu(ProcessHandle process) {
    return process.info().totalCpuDuration();
  }
}
