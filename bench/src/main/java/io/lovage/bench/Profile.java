package io.lovage.bench;

import java.time.Duration;

/**
 * How much work each workload does: {@code full} as the issue asks (about twenty minutes on 2
 * cores), {@code quick} with fewer tasks (about seven, numbers a human can compare), {@code ci}
 * with fewer still (about two minutes less than quick): CI runs it to prove that every row can
 * still be measured, and reads its numbers as orders of magnitude at most. Each profile says its
 * sizes in its row names.
 *
 * @param noopTasks timed no-op tasks per throughput row
 * @param warmupTasks untimed tasks each system runs first (JIT, connections, pools), at least: a
 *     Lovage worker goes on while its JIT is busy, up to four times as many (on 2 cores a worker
 *     JVM compiles its hot code for 50,000 to 80,000 no-op tasks)
 * @param perfTestWarmup how long PerfTest runs before the seconds its rate is the mean of
 * @param perfTestTimed the seconds PerfTest's rate is the mean of
 * @param wrkDuration each wrk run
 * @param restWarmupRuns at most this many untimed wrk runs of 3 s before the REST rows, while the
 *     producer's JIT is busy (on 2 cores it compiles for about 40 s of requests)
 * @param pickupDuration the steady 100 tasks/s of the pickup latency run
 * @param ioTasks {@code demo.sleep(0.5)} tasks of the concurrency lesson
 * @param cpuTasks {@code demo.primes(n)} tasks of the concurrency lesson
 * @param cpuTaskSeconds what one {@code demo.primes(n)} should take on the Lovage worker (Python
 *     takes several times longer for the same n)
 * @param workflowRuns timed runs of each workflow (chord, chain) per system, after one untimed run;
 *     the row is their median
 * @param scheduleWarmupRounds rounds of the schedules before the scheduling precision window, after
 *     the first: the producer and worker JVMs compile their hot code for the first six or seven
 *     rounds of 1,000 runs (on 2 cores), and a scheduler that leads runs for days
 * @param scheduleWindow the scheduled times whose runs the scheduling precision rows measure: with
 *     runs every 10 s, 20 s is two rounds of 1,000 runs
 * @param urgentSamples priority-9 tasks sent behind the backlog of the priority pickup rows
 * @param catchUpEvents events in the stream the event catch-up rows read from its start
 * @param clusterTasks timed no-op tasks per row of the cluster workload (1, 2 and 4 worker JVMs, on
 *     one node and on a three-node cluster)
 * @param hotPathWarmups JMH warm-up iterations (2 s each) of the worker hot path rows
 * @param hotPathIterations JMH measured iterations (2 s each) of the worker hot path rows
 */
record Profile(
    String name,
    int noopTasks,
    int warmupTasks,
    Duration perfTestWarmup,
    Duration perfTestTimed,
    Duration wrkDuration,
    int restWarmupRuns,
    Duration pickupDuration,
    int ioTasks,
    int cpuTasks,
    double cpuTaskSeconds,
    int workflowRuns,
    int scheduleWarmupRounds,
    Duration scheduleWindow,
    int urgentSamples,
    int catchUpEvents,
    int clusterTasks,
    int hotPathWarmups,
    int hotPathIterations) {

  static final Profile FULL =
      new Profile(
          "full",
          60_000,
          30_000,
          Duration.ofSeconds(10),
          Duration.ofSeconds(20),
          Duration.ofSeconds(20),
          40,
          Duration.ofSeconds(30),
          400,
          8,
          1.0,
          3,
          6,
          Duration.ofSeconds(120),
          50,
          1_000_000,
          20_000,
          3,
          5);

  static final Profile QUICK =
      new Profile(
          "quick",
          30_000,
          20_000,
          Duration.ofSeconds(5),
          Duration.ofSeconds(8),
          Duration.ofSeconds(5),
          40,
          Duration.ofSeconds(10),
          80,
          4,
          0.5,
          1,
          6,
          Duration.ofSeconds(20),
          10,
          1_000_000,
          4_000,
          2,
          3);

  /**
   * Every row, at the smallest sizes that still give it something to measure: one round of the
   * schedules, a tenth of the stream to catch up on, half the tasks elsewhere.
   */
  static final Profile CI =
      new Profile(
          "ci",
          5_000,
          2_000,
          Duration.ofSeconds(2),
          Duration.ofSeconds(3),
          Duration.ofSeconds(3),
          2,
          Duration.ofSeconds(5),
          40,
          2,
          0.5,
          1,
          0,
          Duration.ofSeconds(10),
          5,
          200_000,
          2_000,
          2,
          2);

  static Profile named(String name) {
    return switch (name) {
      case "full" -> FULL;
      case "quick" -> QUICK;
      case "ci" -> CI;
      default -> throw new IllegalArgumentException("--profile is ci, quick or full, not " + name);
    };
  }
}
