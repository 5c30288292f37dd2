package io.lovage.worker;

import io.lovage.RetryPolicy;
import io.lovage.TaskCall;
import io.lovage.TaskKind;
import io.lovage.TaskModule;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.lovage.TimeLimits;
import io.lovage.WorkerLostError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Tasks for {@link ProcessPoolIT}, all of kind PROCESS. The child processes create this module by
 * its name (public, no-argument constructor), the test's worker registers it too.
 */
public final class ProcessPoolTasks implements TaskModule {
  private static final TaskOptions PROCESS = TaskOptions.DEFAULT.withKind(TaskKind.PROCESS);

  @Override
  public void register(TaskRegistry.Builder tasks) {
    tasks
        .register("child.pid", call -> ProcessHandle.current().pid(), PROCESS)
        .register("io.pid", call -> ProcessHandle.current().pid()) // an IO task
        .register(
            "child.crash",
            call -> {
              Runtime.getRuntime().halt(137); // like a native crash or the OOM killer
              return null;
            },
            PROCESS)
        .register(
            "child.crash-once",
            call -> {
              if (call.retries() == 0) {
                Runtime.getRuntime().halt(137);
              }
              return "survived on retry " + call.retries();
            },
            PROCESS.withRetry(
                RetryPolicy.on(WorkerLostError.class).withBackoff(Duration.ZERO, Duration.ZERO)))
        .register("child.spin", ProcessPoolTasks::spin, PROCESS)
        .register(
            "child.hog",
            call -> {
              List<long[]> hoard = new java.util.ArrayList<>();
              while (true) {
                hoard.add(new long[1 << 20]); // until the child's heap is full
              }
            },
            PROCESS)
        .register(
            "child.sleep",
            call -> {
              Thread.sleep(30_000);
              return "not interrupted";
            },
            PROCESS.withTimeLimits(TimeLimits.of(Duration.ofMillis(300), Duration.ofSeconds(20))))
        .register("child.rendezvous", ProcessPoolTasks::rendezvous, PROCESS)
        .register("child.report", ProcessPoolTasks::report, PROCESS)
        .register(
            "child.fail",
            call -> {
              throw new ChildFailure(call.arg(0, "message", String.class));
            },
            PROCESS)
        .register(
            "child.retry",
            call -> {
              if (call.retries() == 0) {
                throw call.retry(new IllegalStateException("not yet"), Duration.ZERO);
              }
              return "retried " + call.retries();
            },
            PROCESS);
  }

  /** A CPU loop that ignores interruption. */
  static long spin(TaskCall call) {
    long until = System.nanoTime() + Math.round(call.arg(0, "seconds", double.class) * 1e9);
    long spins = 0;
    while (System.nanoTime() < until) {
      spins++;
    }
    return spins;
  }

  /**
   * Computes until {@code parties} tasks are in the rendezvous at the same time (each leaves a file
   * named by its process in {@code dir}), or for 30 s if they cannot be: tasks that overlap only
   * when they run in parallel, however fast the machine is.
   */
  static Map<String, Object> rendezvous(TaskCall call) throws IOException {
    Path dir = Path.of(call.arg(0, "dir", String.class));
    int parties = call.arg(1, "parties", int.class);
    long start = System.currentTimeMillis();
    long pid = ProcessHandle.current().pid();
    Files.createFile(dir.resolve(String.valueOf(pid)));
    long deadline = System.nanoTime() + 30_000_000_000L;
    boolean met = false;
    long work = 0;
    while (!met && System.nanoTime() < deadline) {
      for (int i = 0; i < 1_000_000; i++) {
        work += i ^ work; // keep a core busy between looks
      }
      try (var files = Files.list(dir)) {
        met = files.count() >= parties;
      }
    }
    return Map.of(
        "pid", pid, "start", start, "end", System.currentTimeMillis(), "met", met, "work", work);
  }

  /**
   * Prints to stdout and reads stdin (both carry frames in a child), reports progress, returns
   * nested JSON.
   */
  static Map<String, Object> report(TaskCall call) throws IOException {
    for (int i = 1; i <= 3; i++) {
      System.out.println("a stray print that must not reach the frames " + i);
      System.out.flush();
      call.progress(i, 3);
    }
    return Map.of(
        "text",
        "h\u00e9llo \u2713",
        "numbers",
        List.of(1, 2.5, new java.math.BigInteger("123456789012345678901234567890")),
        "nested",
        Map.of("flag", true, "list", List.of()),
        "args",
        call.message().args(),
        "stdin",
        System.in.read());
  }

  /** What child.fail throws. */
  public static final class ChildFailure extends RuntimeException {
    public ChildFailure(String message) {
      super(message);
    }
  }
}
