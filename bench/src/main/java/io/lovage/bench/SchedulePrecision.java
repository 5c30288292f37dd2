package io.lovage.bench;

import io.lovage.protocol.Json;
import io.lovage.result.EventStreamResultStore;
import io.lovage.schedule.Scheduler;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import tools.jackson.databind.node.ObjectNode;

/**
 * Workload 8: how punctually periodic tasks start. A producer (which leads the scheduler) and a
 * worker on a queue of their own; 1,000 schedules created over {@code POST /schedules}; for every
 * run due in the profile's window, the worker's task-started time minus the run's scheduled time,
 * read back from the event stream with {@link EventStreamResultStore}. Runs are known by the task
 * id each scheduler gives them ({@link Scheduler#runId}), computed here for every schedule and
 * every tick of the window, so a run that never started or started twice shows too. Producer and
 * worker share this machine's clock.
 */
final class SchedulePrecision {
  static final int SCHEDULES = 1_000;

  /**
   * {@code every: N} runs at the multiples of N seconds since the epoch, so all 1,000 schedules
   * fall due at the same instant: 1,000 runs at once every 10 s, 100 runs/s on average. Such a
   * round is what crontabs that all say "on the minute" make, and the hard case for a scheduler,
   * which sends the runs of a round one after the other; 10 s gives the quick profile two rounds in
   * 20 s.
   */
  static final long EVERY_SECONDS = 10;

  /** REST requests in flight while creating the schedules. */
  private static final int IN_FLIGHT = 8;

  /**
   * The window starts at the first round after the last schedule was created and this much more:
   * the leader must have read every definition by then.
   */
  private static final Duration SETTLE = Duration.ofMillis(500);

  private static final Duration LEADERSHIP_WAIT = Duration.ofSeconds(15);

  /**
   * How long after the last round was due its runs may take to start before the rest count as
   * missed: long enough that a scheduler behind by a few rounds is measured, not called lossy.
   */
  private static final Duration WAIT_FOR_EVENTS = Duration.ofSeconds(60);

  private SchedulePrecision() {}

  /**
   * @param first the first round after the schedules were created, with cold JVMs
   * @param window the rounds of the profile's window, after its warm-up rounds
   * @param all every round from the first: none may miss a run or run one twice
   * @param led whether the bench's producer sent the runs; on a broker shared with other
   *     schedulers, another replica may hold the lease
   */
  record Result(
      ScheduledRuns.Tally first,
      ScheduledRuns.Tally window,
      ScheduledRuns.Tally all,
      boolean led) {}

  static void run(BenchContext ctx, Rows rows) {
    Duration window = ctx.profile().scheduleWindow();
    int warmup = ctx.profile().scheduleWarmupRounds();
    String settings =
        String.format(
            "%,d schedules every %d s, runs due in %d s%s, quorum queue",
            SCHEDULES,
            EVERY_SECONDS,
            window.toSeconds(),
            warmup == 0 ? "" : " after " + (1 + warmup) + " rounds");
    Lazy<Result> result = Lazy.of(() -> measure(ctx, warmup, window));
    rows.measure(
        "Scheduling precision p50: scheduled time to task start (" + settings + ")",
        "ms",
        Goal.NONE,
        () -> percentile(result.get(), result.get().window(), 50));
    // The aim: even when 1,000 runs fall due at once, a run starts within a second of its
    // time, a tenth of the period, so runs keep their spacing. Measured as a scheduler that leads
    // for days runs: its JVMs past their first rounds, which the next row shows.
    rows.measure(
        "Scheduling precision p99: scheduled time to task start (" + settings + ")",
        "ms",
        Goal.below(1_000, "< 1 s"),
        () -> percentile(result.get(), result.get().window(), 99));
    if (warmup > 0) {
      rows.measure(
          String.format(
              "Scheduling precision p99 of the first round, %,d runs just after the producer and"
                  + " worker started (cold JIT)",
              SCHEDULES),
          "ms",
          Goal.NONE,
          () -> percentile(result.get(), result.get().first(), 99));
    }
  }

  private static Result measure(BenchContext ctx, int warmup, Duration window) {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String queue = "bench.schedule." + run;
    List<String> names =
        IntStream.range(0, SCHEDULES)
            .mapToObj(i -> String.format("bench.schedule.%s.%04d", run, i))
            .toList();
    ctx.queues().usedTaskQueue(queue);
    System.out.println("  starting worker-schedule and producer-schedule");
    // Side by side: each takes seconds to start, and CI's time is short.
    CompletableFuture<LovageApp> starting =
        CompletableFuture.supplyAsync(() -> LovageApp.producer(ctx, "producer-schedule", Map.of()));
    LovageApp worker = null;
    LovageApp producer = null;
    try {
      worker =
          LovageApp.worker(
              ctx,
              "worker-schedule",
              queue,
              Map.of("LOVAGE_PREFETCH", String.valueOf(BenchContext.PREFETCH)));
      producer = starting.join();
      awaitLeading(producer);
      Instant created = create(ctx, producer, names, queue);
      Instant first = ScheduledRuns.tickAfter(EVERY_SECONDS, created.plus(SETTLE));
      Instant from = first.plusSeconds(EVERY_SECONDS * warmup);
      ScheduledRuns runs = ScheduledRuns.of(names, EVERY_SECONDS, first, from.plus(window));
      // Read from 10 s back only, as the pickup latency does: starts are taken as each event
      // arrives, so the short expiry loses none.
      try (EventStreamResultStore events =
          new EventStreamResultStore(
              runs.expected() + 50_000, Duration.ofSeconds(10), Clock.systemUTC())) {
        events.onChange(
            record -> {
              if (record.sent() != null) {
                runs.sent(record.id(), record.sent());
              }
              if (record.started() != null) {
                runs.started(record.id(), record.started());
              }
            });
        events.follow(ctx.broker());
        Pause.until(first);
        Leadership before = Leadership.of(producer);
        await(runs, first, from.plus(window));
        boolean led = before.led() && before.equals(Leadership.of(producer));
        ScheduledRuns.Tally tally = runs.tally(from, from.plus(window));
        List<Double> late = tally.lateMillis();
        System.out.printf(
            "  schedule: %,d runs expected, %,d started, %,d twice%s%n",
            tally.expected(),
            tally.seen(),
            tally.twice(),
            late.isEmpty()
                ? ""
                : String.format(
                    "; late p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                    PickupLatency.at(late, 50), PickupLatency.at(late, 99), late.getLast()));
        Map<Instant, List<Double>> sent = runs.lateByRound(true);
        runs.lateByRound(false)
            .forEach(
                (due, started) -> {
                  List<Double> confirmed = sent.getOrDefault(due, List.of(0.0));
                  System.out.printf(
                      "  schedule: round %s: %,d runs; sent (confirmed) p50 %.1f, max %.1f ms;"
                          + " started p50 %.1f, max %.1f ms%n",
                      due,
                      started.size(),
                      PickupLatency.at(confirmed, 50),
                      confirmed.getLast(),
                      PickupLatency.at(started, 50),
                      started.getLast());
                });
        return new Result(
            runs.tally(first, first.plusSeconds(EVERY_SECONDS)), tally, runs.tally(), led);
      }
    } finally {
      ctx.deleteSchedules();
      if (producer != null) {
        producer.stop(ctx);
      }
      if (worker != null) {
        worker.stop(ctx);
      }
    }
  }

  /**
   * Whether the producer leads the scheduler, and how often it became leader: the same before and
   * after the window, and leading, means it sent every run of the window.
   */
  private record Leadership(boolean led, double changes) {
    static Leadership of(LovageApp producer) {
      return new Leadership(
          producer.metric("lovage_scheduler_leader") == 1,
          producer.metric("lovage_scheduler_leader_changes_total"));
    }
  }

  /**
   * Waits a little for the producer to lead the scheduler: it does unless another scheduler on this
   * broker holds the lease, and then that one sends the runs (the row says so).
   */
  private static void awaitLeading(LovageApp producer) {
    long deadline = System.nanoTime() + LEADERSHIP_WAIT.toNanos();
    while (!Leadership.of(producer).led()) {
      if (System.nanoTime() > deadline) {
        System.out.println(
            "  producer-schedule does not lead the scheduler: another scheduler on this broker"
                + " holds the lease");
        return;
      }
      Pause.millis(200);
    }
  }

  /** Creates the schedules, {@link #IN_FLIGHT} requests at a time; answers when all were. */
  private static Instant create(
      BenchContext ctx, LovageApp producer, List<String> names, String queue) {
    long start = System.nanoTime();
    List<String> failed = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(IN_FLIGHT)) {
      List<Future<Integer>> answers = new ArrayList<>();
      for (String name : names) {
        ctx.usedSchedule(name);
        ObjectNode body = Json.MAPPER.createObjectNode();
        body.put("name", name);
        body.put("task", "demo.noop");
        body.put("queue", queue);
        body.put("every", EVERY_SECONDS);
        String json = Json.MAPPER.writeValueAsString(body);
        answers.add(pool.submit(() -> producer.postJson("/schedules", json)));
      }
      for (int i = 0; i < names.size(); i++) {
        try {
          int status = answers.get(i).get();
          if (status != 201) {
            failed.add(names.get(i) + " answered " + status);
          }
        } catch (ExecutionException e) {
          failed.add(names.get(i) + ": " + e.getCause());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    if (!failed.isEmpty()) {
      throw new IllegalStateException(
          failed.size() + " schedules were not created, e.g. " + failed.getFirst());
    }
    System.out.printf(
        "  created %,d schedules in %,d ms%n",
        names.size(), (System.nanoTime() - start) / 1_000_000);
    return Instant.now();
  }

  /** Until every run of the window started, or {@link #WAIT_FOR_EVENTS} after the last was due. */
  private static void await(ScheduledRuns runs, Instant from, Instant until) {
    System.out.printf(
        "  schedule: measuring the runs due from %s to %s (%,d runs)%n",
        from, until, runs.expected());
    Instant deadline = until.minusSeconds(EVERY_SECONDS).plus(WAIT_FOR_EVENTS);
    Instant report = from;
    while (runs.seen() < runs.expected() && Instant.now().isBefore(deadline)) {
      if (Instant.now().isAfter(report)) {
        System.out.printf("  schedule: %,d/%,d runs started%n", runs.seen(), runs.expected());
        report = report.plusSeconds(EVERY_SECONDS);
      }
      Pause.millis(200);
    }
  }

  private static Rows.Measured percentile(Result result, ScheduledRuns.Tally tally, int p) {
    ScheduledRuns.Tally all = result.all();
    if (all.missed() > 0 || all.twice() > 0) {
      throw new IllegalStateException(
          String.format(
              "of %,d runs due, %,d had not started %d s after the last round was due, %,d started"
                  + " twice",
              all.expected(), all.missed(), WAIT_FOR_EVENTS.toSeconds(), all.twice()));
    }
    List<Double> late = tally.lateMillis();
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("schedules", SCHEDULES);
    raw.put("everySeconds", EVERY_SECONDS);
    raw.put("runsExpected", tally.expected());
    raw.put("runsStarted", tally.seen());
    raw.put("runsStartedTwice", tally.twice());
    raw.put("sentByTheBenchProducer", result.led());
    raw.put("minMillis", late.getFirst());
    raw.put("p50Millis", PickupLatency.at(late, 50));
    raw.put("p90Millis", PickupLatency.at(late, 90));
    raw.put("p99Millis", PickupLatency.at(late, 99));
    raw.put("maxMillis", late.getLast());
    return new Rows.Measured(
        PickupLatency.at(late, p),
        String.format(
            "%,d of %,d runs started, none twice; min %,.1f, p90 %,.1f, max %,.1f ms%s",
            tally.seen(),
            tally.expected(),
            late.getFirst(),
            PickupLatency.at(late, 90),
            late.getLast(),
            result.led() ? "" : "; runs sent by another scheduler on this broker"),
        raw);
  }
}
