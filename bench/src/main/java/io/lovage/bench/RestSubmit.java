package io.lovage.bench;

import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Workload 4: how fast the REST producer takes tasks. {@code wrk --latency} on localhost against
 * {@code POST /tasks} (one task per request) and {@code POST /tasks/batch} (50 per request), no
 * worker consuming; a few connection counts each, the best reported with its settings. Each 202
 * means RabbitMQ confirmed the task. The queue is purged between runs.
 */
final class RestSubmit {
  static final String QUEUE = "bench.rest";
  static final int BATCH = 50;
  private static final List<Integer> SINGLE_CONNECTIONS = List.of(64, 256);
  private static final List<Integer> BATCH_CONNECTIONS = List.of(8, 32);

  /** Tasks the producer accepted in every wrk run, the untimed one too. */
  private static final java.util.concurrent.atomic.AtomicLong SUBMITTED =
      new java.util.concurrent.atomic.AtomicLong();

  private RestSubmit() {}

  static void run(BenchContext ctx, Rows rows) {
    Lazy<LovageApp> producer =
        Lazy.of(
            () -> {
              // Declared here, so that it can be purged between runs whatever the producer did.
              ctx.broker().declare(LovageTopology.taskQueue(QUEUE, QueueType.QUORUM));
              ctx.queues().usedTaskQueue(QUEUE);
              System.out.println("  starting producer");
              LovageApp app = LovageApp.producer(ctx, "producer", Map.of());
              // Untimed: the producer's first task declares its topology, which takes seconds on
              // a busy broker; then its JIT and connections warm up.
              awaitAccepted(app);
              awaitHistoryRead(app);
              warmUp(ctx, app);
              return app;
            });
    try {
      Row single =
          rows.measure(
              "REST submit: POST /tasks, 1 task per request, best of "
                  + connections(SINGLE_CONNECTIONS),
              "tasks/s",
              Goal.atLeast(10_000, "≥ 10,000"),
              () -> best(ctx, producer.get(), "submit.lua", "/tasks", SINGLE_CONNECTIONS, 1));
      Goal batchGoal =
          single.measured()
              ? Goal.atLeast(
                  single.value(), "> single (" + Report.format(single.value(), "tasks/s") + ")")
              : Goal.NONE;
      rows.measure(
          "REST submit: POST /tasks/batch, "
              + BATCH
              + " tasks per request, best of "
              + connections(BATCH_CONNECTIONS),
          "tasks/s",
          batchGoal,
          () -> best(ctx, producer.get(), "batch.lua", "/tasks/batch", BATCH_CONNECTIONS, BATCH));
      if (producer.isMade()) {
        rows.measure(
            "Producer JVM resident memory (RSS) after the REST rows",
            "MiB",
            Goal.NONE,
            () ->
                Resident.of(
                    producer.get().child(),
                    String.format("after %,d tasks submitted over REST", SUBMITTED.get())));
      }
    } finally {
      if (producer.isMade()) {
        producer.get().stop(ctx);
      }
    }
  }

  /**
   * Untimed wrk runs of single submits, at each connection count the row measures in turn, until
   * the producer's JIT compilers used at most a tenth of its CPU in the last run at every count (at
   * most the profile's {@code restWarmupRuns}): on 2 cores a JVM still compiles its hot code many
   * seconds after its start, and a compiler takes its CPU from the requests and the broker alike.
   * Warmed at -c 64 alone, the first timed run at -c 256 still paid for compiling (JIT 13 ms of the
   * producer's 101 per 1,000 requests in a quick run): more requests at once take other paths.
   */
  private static void warmUp(BenchContext ctx, LovageApp producer) {
    ProcessHandle process = producer.child().process().toHandle();
    int quietRuns = 0;
    for (int run = 1; ; run++) {
      int connections = SINGLE_CONNECTIONS.get((run - 1) % SINGLE_CONNECTIONS.size());
      Optional<Duration> cpuBefore = CpuUse.cpu(process);
      Optional<Duration> jitBefore = CpuUse.jit(process);
      wrk(ctx, producer, "submit.lua", "/tasks", connections, WARMUP_RUN, 1);
      Optional<Duration> cpu = CpuUse.cpu(process);
      Optional<Duration> jit = CpuUse.jit(process);
      if (cpuBefore.isEmpty() || jitBefore.isEmpty() || cpu.isEmpty() || jit.isEmpty()) {
        return;
      }
      long cpuMillis = cpu.get().minus(cpuBefore.get()).toMillis();
      long jitMillis = jit.get().minus(jitBefore.get()).toMillis();
      System.out.printf(
          "  warm-up run %d at -c %d: the producer used %,d CPU ms, its JIT %,d%n",
          run, connections, cpuMillis, jitMillis);
      quietRuns = CpuUse.compiling(cpuMillis, jitMillis) ? 0 : quietRuns + 1;
      if (quietRuns >= SINGLE_CONNECTIONS.size() || run >= ctx.profile().restWarmupRuns()) {
        return;
      }
    }
  }

  private static final Duration WARMUP_RUN = Duration.ofSeconds(3);

  /** At most this long between runs for the broker and the producer to be quiet again. */
  private static final Duration QUIET_WAIT = Duration.ofSeconds(10);

  private static void awaitAccepted(LovageApp producer) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    String task = "{\"task\":\"demo.noop\",\"queue\":\"" + QUEUE + "\"}";
    int status = 0;
    while (System.nanoTime() < deadline) {
      try {
        status = producer.postJson("/tasks", task);
        if (status == 202) {
          return;
        }
      } catch (java.io.IOException e) {
        // not answering yet
      }
      Pause.millis(500);
    }
    throw new IllegalStateException(
        "the producer did not accept a task within 60 s (last status " + status + ")");
  }

  /**
   * Waits until the producer has read the event history it found at start (the day's events of
   * earlier runs and tests, millions on a busy broker): meanwhile the reading takes the CPU from
   * the requests, and a producer that has run for a while has none left to read.
   */
  private static void awaitHistoryRead(LovageApp producer) {
    long started = System.nanoTime();
    long deadline = started + Duration.ofMinutes(10).toNanos();
    while (producer.metric("lovage_results_history_read") != 1) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the producer did not read its event history in 10 min");
      }
      Pause.millis(500);
    }
    System.out.printf(
        "  the producer read its event history in %,d ms%n",
        (System.nanoTime() - started) / 1_000_000);
  }

  /** {@code -c 64 and -c 256} */
  private static String connections(List<Integer> counts) {
    return String.join(" and ", counts.stream().map(c -> "-c " + c).toList());
  }

  private static Rows.Measured best(
      BenchContext ctx,
      LovageApp producer,
      String script,
      String path,
      List<Integer> connections,
      int batch) {
    Duration duration = ctx.profile().wrkDuration();
    List<Map<String, Object>> runs = new ArrayList<>();
    WrkResult best = null;
    Map<String, Object> bestCpu = Map.of();
    int bestConnections = 0;
    for (int c : connections) {
      Timed timed = wrk(ctx, producer, script, path, c, duration, batch);
      WrkResult result = timed.result();
      Map<String, Object> run = new LinkedHashMap<>();
      run.put("connections", c);
      run.putAll(result.raw());
      run.put("tasksPerSecond", result.okPerSecond() * batch);
      run.putAll(timed.cpuPer1000Requests());
      runs.add(run);
      if (best == null || result.okPerSecond() > best.okPerSecond()) {
        best = result;
        bestCpu = timed.cpuPer1000Requests();
        bestConnections = c;
      }
    }
    if (best.okPerSecond() == 0) {
      throw new IllegalStateException("no request to " + path + " was answered 2xx; runs: " + runs);
    }
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("batch", batch);
    raw.put("best", "wrk -t2 -c" + bestConnections + " -d" + duration.toSeconds() + "s");
    raw.put("runs", runs);
    return new Rows.Measured(
        best.okPerSecond() * batch,
        String.format(
            "wrk -t2 -c%d -d%ds: %,.0f requests/s, p50 %s, p99 %s, %,d failed; %s",
            bestConnections,
            duration.toSeconds(),
            best.okPerSecond(),
            Report.format(best.p50Millis(), "ms"),
            Report.format(best.p99Millis(), "ms"),
            best.failed(),
            describe(bestCpu)),
        raw);
  }

  /** A wrk run and the CPU the producer and RabbitMQ used per 1,000 requests answered 2xx in it. */
  private record Timed(WrkResult result, Map<String, Object> cpuPer1000Requests) {}

  static final String PRODUCER_CPU = "producerCpuMsPer1000Requests";
  static final String PRODUCER_JIT = "producerJitCpuMsPer1000Requests";
  static final String BROKER_CPU = "brokerCpuMsPer1000Requests";

  /**
   * {@code "CPU ms per 1,000 requests: producer 95 (JIT 2), RabbitMQ 104"}: on 2 cores shared by
   * wrk, the producer and RabbitMQ, what a request costs each says what limits the rate.
   */
  private static String describe(Map<String, Object> cpu) {
    return String.format(
        "CPU ms per 1,000 requests: producer %s%s, RabbitMQ %s",
        cpu.getOrDefault(PRODUCER_CPU, "unknown"),
        CpuUse.jitPart(cpu.get(PRODUCER_JIT)),
        cpu.getOrDefault(BROKER_CPU, "not here"));
  }

  private static Timed wrk(
      BenchContext ctx,
      LovageApp producer,
      String script,
      String path,
      int connections,
      Duration duration,
      int batch) {
    System.out.printf("  wrk %s -c%d for %d s…%n", path, connections, duration.toSeconds());
    CpuUse cpu = CpuUse.of(List.of(producer));
    String output =
        ctx.processes()
            .run(
                "wrk",
                List.of(
                    "wrk",
                    "-t2",
                    "-c" + connections,
                    "-d" + duration.toSeconds() + "s",
                    "--timeout",
                    "10s",
                    "--latency",
                    "-s",
                    ctx.repo().resolve("bench/wrk/" + script).toString(),
                    "http://127.0.0.1:" + producer.port() + path),
                Map.of("BENCH_QUEUE", QUEUE, "BENCH_BATCH", String.valueOf(batch)),
                duration.plusSeconds(60));
    WrkResult result = WrkResult.parse(output);
    long answered = result.requests() - result.failed();
    // Read before the purge, whose work in RabbitMQ is not the requests'.
    Map<String, Object> per1000 = cpu.per1000((int) Math.max(1, answered));
    Map<String, Object> cpuPer1000 = new LinkedHashMap<>();
    putPresent(cpuPer1000, PRODUCER_CPU, per1000.get(CpuUse.WORKER));
    putPresent(cpuPer1000, PRODUCER_JIT, per1000.get(CpuUse.WORKER_JIT));
    putPresent(cpuPer1000, BROKER_CPU, per1000.get(CpuUse.BROKER));
    SUBMITTED.addAndGet(answered * batch);
    System.out.printf(
        "  wrk %s -c%d: %,.0f requests/s = %,.0f tasks/s, p50 %s, p99 %s, %,d failed; %s%n",
        path,
        connections,
        result.okPerSecond(),
        result.okPerSecond() * batch,
        Report.format(result.p50Millis(), "ms"),
        Report.format(result.p99Millis(), "ms"),
        result.failed(),
        describe(cpuPer1000));
    ctx.queues().purge(QUEUE);
    CpuUse.awaitQuiet(List.of(producer.child().process().toHandle()), QUIET_WAIT);
    return new Timed(result, cpuPer1000);
  }

  private static void putPresent(Map<String, Object> map, String key, Object value) {
    if (value != null) {
      map.put(key, value);
    }
  }
}
