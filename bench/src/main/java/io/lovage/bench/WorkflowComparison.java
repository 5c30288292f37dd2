package io.lovage.bench;

import io.lovage.Canvas;
import io.lovage.Signature;
import io.lovage.TaskClient;
import io.lovage.TaskFuture;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import io.lovage.protocol.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * Workload 7: workflows (Celery's canvas), from submit to result in the client, Lovage and Celery
 * 5.2 side by side. A chord of {@value #CHORD_HEADER} {@code demo.noop} header tasks whose body,
 * {@code demo.echo}, answers the list of their results; a chain of {@value #CHAIN_STEPS} steps,
 * {@code demo.add(0, 0)} then {@code demo.add(previous, 1)}, whose result is {@code CHAIN_STEPS -
 * 1}. Each system runs each workflow once untimed (the JIT, connections), then {@link
 * Profile#workflowRuns()} times; a row is the median. The same sizes in both profiles.
 *
 * <p>Lovage: one worker JVM with its default pools, the Java TaskClient's {@code submit(Canvas)};
 * results come back on the client's reply queue and the chord joins in RabbitMQ ({@value
 * LovageTopology#CHORD_QUEUE}). Celery: prefork -c 2 running {@code bench/celery/bench_tasks.py},
 * its own Python client ({@code bench_workflow.py}), and a Redis result backend of the bench's own:
 * Celery's rpc:// backend cannot join a chord, Redis joins it with a counter per chord. Both on
 * classic queues (Celery 5.2 cannot consume quorum ones), prefetch 200, every result stored.
 */
final class WorkflowComparison {
  static final int CHORD_HEADER = 1_000;
  static final int CHAIN_STEPS = 100;
  static final String LOVAGE_QUEUE = "bench.workflow.lovage";
  static final String CELERY_QUEUE = "bench.workflow.celery";
  private static final int CELERY_CONCURRENCY = 2;

  /** One workflow, submit to result. */
  private static final Duration TIMEOUT = Duration.ofMinutes(2);

  private WorkflowComparison() {}

  /** One workflow's times on one system: the untimed run, then the timed ones. */
  record Times(double warmup, List<Double> runs, String how) {
    Rows.Measured measured() {
      List<Double> sorted = runs.stream().sorted().toList();
      int middle = sorted.size() / 2;
      double median =
          sorted.size() % 2 == 1
              ? sorted.get(middle)
              : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
      String each =
          runs.stream().map(s -> String.format("%.2f", s)).collect(Collectors.joining(", "));
      String note =
          runs.size() == 1
              ? String.format("1 run after an untimed one (%.2f s); %s", warmup, how)
              : String.format(
                  "median of %d runs (%s s) after an untimed one (%.2f s); %s",
                  runs.size(), each, warmup, how);
      Map<String, Object> raw = new LinkedHashMap<>();
      raw.put("runs", runs);
      raw.put("warmupSeconds", warmup);
      raw.put("how", how);
      return new Rows.Measured(median, note, raw);
    }
  }

  /** Both workflows on one system. */
  record Results(Times chord, Times chain) {}

  static void run(BenchContext ctx, Rows rows) {
    int runs = ctx.profile().workflowRuns();
    String chord =
        String.format(
            "Chord of %,d no-op header tasks + demo.echo body, submit → body result, ",
            CHORD_HEADER);
    String chain = String.format("Chain of %d demo.add steps, submit → last result, ", CHAIN_STEPS);
    String lovage = "Lovage, 1 worker JVM, classic queue";
    String celery =
        "Celery 5.2 prefork -c " + CELERY_CONCURRENCY + ", classic queue, Redis result backend";
    String of = runs == 1 ? " (1 run; median of 3 in full)" : " (median of " + runs + " runs)";
    // Each system runs both workflows at once, and is stopped before the other starts.
    Lazy<Results> lovageResults = Lazy.of(() -> lovage(ctx, runs));
    Lazy<Results> celeryResults = Lazy.of(() -> celery(ctx, runs));

    Row lovageChord =
        rows.measure(
            chord + lovage + of, "s", Goal.NONE, () -> lovageResults.get().chord().measured());
    Row celeryChord =
        rows.measure(
            chord + celery + of, "s", Goal.NONE, () -> celeryResults.get().chord().measured());
    rows.add(
        Row.ratio(
            String.format(
                "Chord of %,d no-op tasks: Celery time ÷ Lovage time (higher: Lovage faster)",
                CHORD_HEADER),
            celeryChord,
            lovageChord,
            Goal.NONE));
    Row lovageChain =
        rows.measure(
            chain + lovage + of, "s", Goal.NONE, () -> lovageResults.get().chain().measured());
    Row celeryChain =
        rows.measure(
            chain + celery + of, "s", Goal.NONE, () -> celeryResults.get().chain().measured());
    rows.add(
        Row.ratio(
            String.format(
                "Chain of %d steps: Celery time ÷ Lovage time (higher: Lovage faster)",
                CHAIN_STEPS),
            celeryChain,
            lovageChain,
            Goal.NONE));
  }

  private static Results lovage(BenchContext ctx, int runs) {
    TaskClient client = ctx.client(QueueType.CLASSIC);
    ctx.queues().usedTaskQueue(LOVAGE_QUEUE);
    // The chord queue has one active consumer: another worker on this broker would join our chords.
    long joiners = ctx.queues().consumers(LovageTopology.CHORD_QUEUE);
    if (joiners > 0) {
      System.out.printf(
          "  note: %d consumer(s) of %s before the bench's worker started: another worker may"
              + " join the chords%n",
          joiners, LovageTopology.CHORD_QUEUE);
    }
    System.out.println("  starting worker-workflow");
    LovageApp worker =
        LovageApp.worker(
            ctx,
            "worker-workflow",
            LOVAGE_QUEUE,
            Map.of(
                "LOVAGE_QUEUE_TYPE",
                "classic",
                "LOVAGE_PREFETCH",
                String.valueOf(BenchContext.PREFETCH)));
    try {
      String how =
          "1 worker JVM, default pools, prefetch "
              + BenchContext.PREFETCH
              + "; results on the client's reply queue, chord joined in RabbitMQ"
              + (joiners > 0 ? " (" + joiners + " other chord consumer(s) on the broker)" : "");
      List<Double> chord = new ArrayList<>();
      List<Double> chain = new ArrayList<>();
      for (int run = 0; run <= runs; run++) {
        String label = run == 0 ? "warm-up" : "run " + run;
        chord.add(
            timed("Lovage chord " + label, client, chord(), WorkflowComparison::isChordResult));
        chain.add(
            timed(
                "Lovage chain " + label,
                client,
                chain(),
                result -> result.isIntegralNumber() && result.asLong() == CHAIN_STEPS - 1));
      }
      return new Results(times(chord, how), times(chain, how));
    } finally {
      worker.stop(ctx);
    }
  }

  private static Canvas chord() {
    List<Signature> header = new ArrayList<>();
    for (int i = 0; i < CHORD_HEADER; i++) {
      header.add(Signature.of("demo.noop").toQueue(LOVAGE_QUEUE));
    }
    return Canvas.chord(header, Signature.of("demo.echo").toQueue(LOVAGE_QUEUE));
  }

  private static Canvas chain() {
    Canvas[] steps = new Canvas[CHAIN_STEPS];
    steps[0] = Signature.of("demo.add", 0, 0).toQueue(LOVAGE_QUEUE);
    for (int i = 1; i < CHAIN_STEPS; i++) {
      steps[i] = Signature.of("demo.add", 1).toQueue(LOVAGE_QUEUE);
    }
    return Canvas.chain(steps);
  }

  private static boolean isChordResult(JsonNode result) {
    if (!result.isArray() || result.size() != CHORD_HEADER) {
      return false;
    }
    for (JsonNode each : result) {
      if (!each.isNull()) {
        return false;
      }
    }
    return true;
  }

  /** Seconds from the submit (the canvas built before, as on Celery's side) to the result. */
  private static double timed(
      String label, TaskClient client, Canvas canvas, Predicate<JsonNode> expected) {
    long start = System.nanoTime();
    TaskFuture future = client.submit(canvas, LOVAGE_QUEUE);
    JsonNode result;
    try {
      result = future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the " + label, e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(label + " failed: " + e.getCause(), e);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          label + ": no result within " + TIMEOUT + " (task " + future.id() + ")", e);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (!expected.test(result)) {
      String shown = String.valueOf(result);
      throw new IllegalStateException(
          label + " answered " + shown.substring(0, Math.min(200, shown.length())));
    }
    System.out.printf("  %s: %.3f s%n", label, seconds);
    return seconds;
  }

  private static Times times(List<Double> seconds, String how) {
    return new Times(seconds.getFirst(), List.copyOf(seconds.subList(1, seconds.size())), how);
  }

  private static Results celery(BenchContext ctx, int runs) {
    System.out.println("  starting redis-server (Celery's result backend)");
    RedisServer redis = RedisServer.start(ctx);
    try {
      Map<String, String> backend = Map.of("BENCH_RESULT_BACKEND", redis.url());
      int multiplier = BenchContext.PREFETCH / CELERY_CONCURRENCY;
      System.out.println("  starting Celery prefork -c " + CELERY_CONCURRENCY);
      CeleryWorker worker =
          CeleryWorker.start(ctx, CELERY_QUEUE, "prefork", CELERY_CONCURRENCY, multiplier, backend);
      try {
        Map<String, String> env = new LinkedHashMap<>(backend);
        env.put("RABBITMQ_URI", ctx.rabbitUri());
        env.put("BENCH_QUEUE", CELERY_QUEUE);
        env.put("PYTHONDONTWRITEBYTECODE", "1");
        String output =
            ctx.processes()
                .run(
                    "celery-workflow-client",
                    List.of(
                        CeleryWorker.PYTHON,
                        ctx.celeryDir().resolve("bench_workflow.py").toString(),
                        "--chord",
                        String.valueOf(CHORD_HEADER),
                        "--chain",
                        String.valueOf(CHAIN_STEPS),
                        "--runs",
                        String.valueOf(runs)),
                    env,
                    TIMEOUT.multipliedBy(2L * (runs + 1)));
        String how =
            worker.description()
                + "; Python client, Redis result backend, chord joined by a counter in Redis";
        return parse(output, how);
      } finally {
        worker.stop(ctx);
      }
    } finally {
      redis.stop(ctx);
    }
  }

  /**
   * The last line of bench_workflow.py: {@code {"chord": {"warmup": s, "runs": [s, ...]}, ...}}.
   */
  static Results parse(String output, String how) {
    String line =
        output
            .lines()
            .filter(l -> l.startsWith("{"))
            .reduce((first, second) -> second)
            .orElseThrow(
                () -> new IllegalStateException("no JSON line from bench_workflow.py:\n" + output));
    JsonNode json = Json.MAPPER.readTree(line);
    return new Results(times(json.path("chord"), how), times(json.path("chain"), how));
  }

  private static Times times(JsonNode workflow, String how) {
    List<Double> runs = new ArrayList<>();
    for (JsonNode run : workflow.path("runs")) {
      runs.add(run.asDouble());
    }
    if (runs.isEmpty() || !workflow.path("warmup").isNumber()) {
      throw new IllegalStateException("bench_workflow.py printed no times: " + workflow);
    }
    return new Times(workflow.path("warmup").asDouble(), List.copyOf(runs), how);
  }
}
