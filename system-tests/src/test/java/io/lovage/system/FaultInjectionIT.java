package io.lovage.system;

import io.lovage.broker.LovageTopology;
import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import io.lovage.testing.TestCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongPredicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * Nothing lost under faults: real faults injected into a running system on this machine (RabbitMQ,
 * the producer and worker JVMs as separate processes), and every task counted: submitted, confirmed
 * (202), completed, lost, run twice. Runs are counted from the mark file that {@code demo.mark}
 * appends a line to per run, not from the task events the suite is judging.
 *
 * <p>Each scenario adds a row to the table in {@code target/faults.md}; a count that is wrong fails
 * it. The {@code ci} profile runs on every {@code ./mvnw verify}; {@code -Dfaults=full} runs every
 * scenario at full size (see docs/reliability.md, "Fault injection"). Scenarios that stop the
 * broker or raise its memory alarm disturb everything else using it: they are short and always
 * restore it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionIT {
  private static final FaultProfile PROFILE = FaultProfile.current();

  /** How long confirmed tasks get to run and be recorded once the fault is over. */
  private static final Duration SETTLE = Duration.ofMinutes(3);

  /** The publish confirm timeout (5 s) plus slack for a loaded 2-core machine. */
  private static final long ANSWER_WITHIN_MS = 10_000;

  /**
   * How long scenario 2 keeps the broker down at least: longer than the 5 s publish timeout, so
   * that requests made while it is down are answered while it is still down; short, because it is
   * down for everyone using it.
   */
  private static final Duration OUTAGE = Duration.ofSeconds(6);

  /** The restored memory high watermark, RabbitMQ's default. */
  private static final String WATERMARK = "0.4";

  private static FaultReport report;
  private static AppProcess producer;

  /**
   * The three-node cluster of scenario 14, started in the background when the suite starts (about
   * 40 s, mostly waiting), so that the scenario does not wait for it; stopped after the suite.
   */
  private static java.util.concurrent.CompletableFuture<RabbitCluster> cluster;

  private static double clusterStartSeconds;

  private final List<AppProcess> processes = new CopyOnWriteArrayList<>();
  private final List<String> queues = new ArrayList<>();

  @BeforeAll
  static void startProducer() {
    if (RabbitCluster.runnable() && RabbitCluster.sameVersionAsTheTestBroker()) {
      cluster =
          java.util.concurrent.CompletableFuture.supplyAsync(
              () -> {
                long starting = System.nanoTime();
                RabbitCluster started = RabbitCluster.start();
                clusterStartSeconds = (System.nanoTime() - starting) / 1e9;
                return started;
              });
    }
    report = new FaultReport(PROFILE, Path.of("target", "faults.md").toAbsolutePath());
    producer = AppProcess.producer(producerEnv());
    report.preface(
        String.format(
            Locale.ROOT,
            "The suite's producer read the last 5 minutes of the event stream in %.1f s before the"
                + " first scenario.",
            producer.historyReadSeconds()));
  }

  /**
   * Room in the producer's index for every task of the suite and of whoever else uses the broker,
   * and only the last 5 minutes of the event stream to read at start: a task is counted within
   * minutes of its last event, and on a busy shared broker a day of events takes minutes to read.
   */
  private static Map<String, String> producerEnv() {
    return Map.of("LOVAGE_RESULTS_MAX_TASKS", "2000000", "LOVAGE_RESULT_EXPIRES", "5m");
  }

  @AfterAll
  static void stopProducer() {
    if (cluster != null) {
      try {
        cluster.join().close();
      } catch (RuntimeException e) {
        System.out.println("[faults] the cluster of scenario 14 did not start or stop: " + e);
      }
    }
    if (producer != null) {
      producer.close();
    }
    System.out.println("[faults] table written to " + report.file() + "\n" + report.markdown());
  }

  @AfterEach
  void cleanUp() {
    processes.forEach(AppProcess::close);
    queues.forEach(RabbitFixture::deleteTaskQueue);
  }

  // ---------------------------------------------------------------------------------------------
  // 1. kill -9 one of two workers

  @Test
  @Order(1)
  void killingOneOfTwoWorkersLosesNothingAndOnlyTasksItHadStartedRunTwice() {
    scenario(
        "1. kill -9 one of two workers",
        o -> {
          Ledger ledger = ledger("kill");
          List<AppProcess> workers = workers(ledger, 2, Map.of("LOVAGE_IO_CONCURRENCY", "20"));
          AppProcess victim = workers.get(0);
          int tasks = PROFILE.killTasks();
          ledger.submitBatches(producer, tasks, 0.05);

          boolean running =
              Deadline.poll(
                  Duration.ofSeconds(120),
                  () -> ledger.runsBy(victim.pid()) >= 20 && ledger.confirmedRun() >= tasks / 4);
          long startedByVictim = ledger.runsBy(victim.pid());
          victim.kill();
          Counts counts = ledger.count(producer, SETTLE);

          o.counts(counts, ledger);
          o.check("the killed worker was running tasks", running);
          o.check("every 202 completed", counts.completed() == counts.confirmed());
          o.check("lost = 0", counts.lost() == 0);
          long victimPid = victim.pid();
          long others = ranTwiceOtherThanBy(ledger, pid -> pid == victimPid);
          o.check("only tasks the killed worker had started ran twice", others == 0);
          o.note(
              "the killed worker had run %d tasks; %d ran twice, %d of them not explained by the"
                  + " kill",
              startedByVictim, counts.ranTwice(), others);
        });
  }

  /**
   * Tasks that ran more than once although no run, or more than one run, was by a killed worker:
   * duplicates the faults do not explain.
   */
  private static long ranTwiceOtherThanBy(Ledger ledger, LongPredicate killed) {
    return ledger.runs().values().stream()
        .filter(runs -> runs.size() > 1)
        .filter(
            runs ->
                runs.stream().noneMatch(r -> killed.test(r.pid()))
                    || runs.stream().filter(r -> !killed.test(r.pid())).count() > 1)
        .count();
  }

  // ---------------------------------------------------------------------------------------------
  // 2. broker restarts while tasks are submitted over REST

  /**
   * One broker outage: surely down from the moment the stop command returned until the start
   * command was run (the broker may answer before that command returns); recovered at the first 202
   * after that.
   */
  private record Outage(String kind, long downNanos, long upNanos, long recoveredNanos) {
    boolean covers(Ledger.Submission s) {
      return s.sentNanos() >= downNanos && s.answeredNanos() <= upNanos;
    }

    double seconds() {
      return (upNanos - downNanos) / 1e9;
    }

    double recoverySeconds() {
      return (recoveredNanos - upNanos) / 1e9;
    }
  }

  @Test
  @Order(2)
  void brokerRestartsWhileSubmittingAnswer503DuringTheOutageAndEvery202Completes() {
    scenario(
        PROFILE.nodeRestart()
            ? "2. broker restart (stop_app, then node stop) under REST submits"
            : "2. broker restart (stop_app/start_app) under REST submits",
        o -> {
          Ledger ledger = ledger("restart");
          List<AppProcess> workers = workers(ledger, 2, Map.of("LOVAGE_IO_CONCURRENCY", "20"));
          int target = PROFILE.restartTasks();
          List<Outage> outages = new ArrayList<>();
          try (Submitters clients = new Submitters(8, ledger, producer, 0, Submitters.UNTIL_TOLD)) {
            awaitConfirmed(ledger, target / 4);
            outages.add(
                outage(
                    "stop_app",
                    ledger,
                    RabbitFixture::stopApp,
                    () -> {
                      RabbitFixture.startApp();
                    }));
            if (PROFILE.nodeRestart()) {
              awaitConfirmed(ledger, target / 2);
              outages.add(
                  outage(
                      "node stop",
                      ledger,
                      RabbitAdmin::stopNode,
                      () -> RabbitAdmin.startNode(brokerLog())));
            }
            clients.finishAt(target);
            o.check(
                "at least " + target + " submitted within 10 min",
                clients.awaitDone(Duration.ofMinutes(10)));
          } finally {
            ensureBrokerUp();
          }
          Counts counts = ledger.count(producer, SETTLE);
          List<Ledger.Submission> all = ledger.submissions();
          List<Ledger.Submission> during =
              all.stream().filter(s -> outages.stream().anyMatch(out -> out.covers(s))).toList();

          o.counts(counts, ledger);
          o.check("every 202 completed", counts.completed() == counts.confirmed());
          o.check("lost = 0", counts.lost() == 0);
          o.check("requests were answered during the outage", !during.isEmpty());
          o.check(
              "no 202 for a request made and answered while the broker was down",
              during.stream().noneMatch(Ledger.Submission::confirmed));
          o.check(
              "every answer during the outage a 503 with Retry-After",
              during.stream().allMatch(s -> s.status() == 503 && s.retryAfter()));
          o.check(
              "only 202 and 503 answers",
              all.stream().allMatch(s -> s.status() == 202 || s.status() == 503));
          long slow = all.stream().filter(s -> s.millis() > ANSWER_WITHIN_MS).count();
          o.check("every answer within " + ANSWER_WITHIN_MS / 1000 + " s", slow == 0);
          o.check(
              "producer and workers recovered by themselves (same processes)",
              producer.isAlive() && workers.stream().allMatch(AppProcess::isAlive));
          o.note(
              "%s; %d answers during outages, all 503: %s; slowest answer %d ms%s",
              outages.stream()
                  .map(
                      out ->
                          String.format(
                              Locale.ROOT,
                              "%s: down %.1f s, first 202 %.1f s after the start command",
                              out.kind(),
                              out.seconds(),
                              out.recoverySeconds()))
                  .collect(Collectors.joining("; ")),
              during.size(),
              during.stream().allMatch(s -> s.status() == 503),
              all.stream().mapToLong(Ledger.Submission::millis).max().orElse(0),
              counts.ranUnconfirmed() > 0
                  ? "; ⚠ " + counts.ranUnconfirmed() + " tasks answered 503 ran anyway"
                  : "");
        });
  }

  /**
   * Takes the broker down for at least {@link #OUTAGE} and until the clients have had a few answers
   * while it is down, starts it again, and waits for the first 202 after that.
   */
  private static Outage outage(String kind, Ledger ledger, Runnable down, Runnable up) {
    int before = ledger.submissions().size();
    down.run();
    long downAt = System.nanoTime();
    Deadline.poll(
        OUTAGE.plusSeconds(20),
        () ->
            System.nanoTime() - downAt >= OUTAGE.toNanos()
                && ledger.submissions().stream()
                        .skip(before)
                        .filter(s -> s.sentNanos() >= downAt)
                        .count()
                    >= 8);
    long upAt = System.nanoTime();
    up.run();
    Deadline.poll(
        Duration.ofSeconds(120),
        () -> ledger.submissions().stream().anyMatch(s -> s.confirmed() && s.sentNanos() > upAt));
    return new Outage(kind, downAt, upAt, System.nanoTime());
  }

  private static void awaitConfirmed(Ledger ledger, long count) {
    if (!Deadline.poll(Duration.ofMinutes(5), () -> ledger.confirmedCount() >= count)) {
      throw new AssertionError(
          "only " + ledger.confirmedCount() + " of " + count + " tasks confirmed in 5 min");
    }
  }

  /** Whatever happened, the broker is running again for everyone else. */
  private static void ensureBrokerUp() {
    if (RabbitAdmin.answers()) {
      return;
    }
    try {
      RabbitFixture.startApp();
    } catch (IllegalStateException nodeDown) {
      RabbitAdmin.startNode(brokerLog());
    }
  }

  private static Path brokerLog() {
    return Path.of("target", "faults", "rabbitmq-server.log").toAbsolutePath();
  }

  // ---------------------------------------------------------------------------------------------
  // 3. network cut between worker and broker

  @Test
  @Order(3)
  void aCutConnectionIsReconnectedAndItsUnacknowledgedTasksAreRedelivered() throws IOException {
    try (TcpProxy proxy = new TcpProxy(URI.create(RabbitFixture.uri()).getPort())) {
      Ledger cut = ledger("cut");
      AppProcess worker =
          workers(
                  cut,
                  1,
                  Map.of(
                      "RABBITMQ_URI",
                      viaProxy(proxy),
                      "LOVAGE_IO_CONCURRENCY",
                      "10",
                      // A stall is noticed by heartbeats only: a short one keeps the scenario
                      // short. Its deadline comes from the heartbeat the broker reports.
                      "LOVAGE_HEARTBEAT",
                      "5s"))
              .get(0);
      scenario(
          "3a. network cut (TCP reset) between worker and broker",
          o -> networkFault(o, cut, worker, proxy, false));
      if (PROFILE.stall()) {
        Ledger stall = new Ledger("stall", cut.queue(), cut.marks());
        scenario(
            "3b. network stall (no bytes, no close) between worker and broker",
            o -> networkFault(o, stall, worker, proxy, true));
      }
    }
  }

  private void networkFault(
      Outcome o, Ledger ledger, AppProcess worker, TcpProxy proxy, boolean stall)
      throws IOException {
    int heartbeat = heartbeatOf(worker);
    ledger.submitBatches(producer, 40, 1.0);
    boolean inFlight = Deadline.poll(Duration.ofSeconds(60), () -> ledger.confirmedRun() >= 10);
    Set<String> startedBefore = new HashSet<>(ledger.runs().keySet());
    int acceptedBefore = proxy.accepted();
    long at = System.nanoTime();
    if (stall) {
      proxy.stall();
    } else {
      proxy.cut();
    }
    // The worker has two connections (publishing, consuming): both must come back.
    Duration noticeWithin = Duration.ofSeconds(stall ? 2L * heartbeat + 15 : 10);
    boolean reconnected =
        Deadline.poll(noticeWithin.plusSeconds(30), () -> proxy.accepted() >= acceptedBefore + 2);
    double noticed = (System.nanoTime() - at) / 1e9;
    Counts counts = ledger.count(producer, SETTLE);
    long prefetch = prefetchOf(worker, ledger.queue());
    long notStarted =
        ledger.runs().entrySet().stream()
            .filter(e -> e.getValue().size() > 1 && !startedBefore.contains(e.getKey()))
            .count();

    o.counts(counts, ledger);
    o.check("tasks were running when the network broke", inFlight);
    o.check(
        "the worker reconnected within " + noticeWithin.toSeconds() + " s",
        reconnected && noticed <= noticeWithin.toSeconds());
    o.check("every 202 completed", counts.completed() == counts.confirmed());
    o.check("lost = 0", counts.lost() == 0);
    // The worker held up to its prefetch of deliveries on the broken connection, running or not:
    // it finishes them, cannot acknowledge them, and RabbitMQ delivers them again.
    o.check(
        "only deliveries the worker held at the fault ran twice (at most its prefetch, "
            + prefetch
            + ")",
        counts.ranTwice() <= prefetch);
    o.check("the worker process lived through it", worker.isAlive());
    o.note(
        "heartbeat %d s; reconnected %.1f s after the %s; %d ran twice, of which %d had not started"
            + " at the fault (held by the worker, started on the broken connection)",
        heartbeat, noticed, stall ? "stall" : "cut", counts.ranTwice(), notStarted);
  }

  /** The worker's prefetch on a queue, from its /prometheus. */
  private static long prefetchOf(AppProcess worker, String queue) throws IOException {
    String metrics = worker.get("/prometheus").body();
    return metrics
        .lines()
        .filter(
            l -> l.startsWith("lovage_worker_prefetch{") && l.contains("queue=\"" + queue + "\""))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no lovage_worker_prefetch for " + queue));
  }

  private static String viaProxy(TcpProxy proxy) {
    URI broker = URI.create(RabbitFixture.uri());
    return broker.getScheme()
        + "://"
        + broker.getRawUserInfo()
        + "@127.0.0.1:"
        + proxy.port()
        + broker.getRawPath();
  }

  /** The heartbeat timeout the broker agreed with the worker, in seconds. */
  private static int heartbeatOf(AppProcess worker) {
    String name = worker.workerNamePrefix();
    return Await.until(
        Duration.ofSeconds(30),
        "the management API to list the worker's connection",
        () -> {
          try {
            return RabbitAdmin.heartbeatOfPrefix(name);
          } catch (RuntimeException e) {
            return Optional.empty();
          }
        });
  }

  // ---------------------------------------------------------------------------------------------
  // 4. memory alarm

  @Test
  @Order(4)
  void aMemoryAlarmGets503InTimeHangsNothingAndSubmittingWorksAgainAfterIt() {
    scenario(
        "4. memory alarm on the broker",
        o -> {
          Ledger ledger = ledger("alarm");
          AppProcess worker = workers(ledger, 1, Map.of("LOVAGE_IO_CONCURRENCY", "10")).get(0);
          ledger.submitBatches(producer, 30, 0.3);
          Deadline.poll(Duration.ofSeconds(60), () -> ledger.confirmedRun() >= 5);
          List<Ledger.Submission> blocked = new ArrayList<>();
          List<Long> otherAnswers = new ArrayList<>();
          boolean raised;
          boolean cleared;
          try {
            RabbitFixture.rabbitmqctl("set_vm_memory_high_watermark", "0.0000001");
            raised =
                Deadline.poll(
                    Duration.ofSeconds(20), () -> RabbitAdmin.memoryAlarm().orElse(false));
            blocked.addAll(submitTogether(ledger, 4));
            otherAnswers.add(timed(() -> producer.get("/health")));
            otherAnswers.add(timed(() -> worker.get("/health")));
            otherAnswers.add(
                timed(
                    () -> producer.get("/tasks/" + ledger.confirmed().values().iterator().next())));
          } finally {
            RabbitFixture.rabbitmqctl("set_vm_memory_high_watermark", WATERMARK);
            cleared =
                Deadline.poll(
                    Duration.ofSeconds(30), () -> !RabbitAdmin.memoryAlarm().orElse(true));
          }
          long clearedAt = System.nanoTime();
          boolean again =
              Deadline.poll(Duration.ofSeconds(60), () -> ledger.submit(producer, 0).confirmed());
          double againSeconds = (System.nanoTime() - clearedAt) / 1e9;
          for (int i = 0; i < 20; i++) {
            ledger.submit(producer, 0);
          }
          Counts counts = ledger.count(producer, SETTLE);

          o.counts(counts, ledger);
          o.check("the alarm was raised", raised);
          o.check(
              "every submit during the alarm a 503 with Retry-After",
              blocked.stream().allMatch(s -> s.status() == 503 && s.retryAfter()));
          o.check(
              "answered within " + ANSWER_WITHIN_MS / 1000 + " s",
              blocked.stream().allMatch(s -> s.millis() <= ANSWER_WITHIN_MS));
          o.check(
              "health and task reads answered during the alarm",
              otherAnswers.stream().allMatch(ms -> ms <= ANSWER_WITHIN_MS));
          o.check("the alarm cleared", cleared);
          o.check("submitting works again after it", again);
          o.check("every 202 completed", counts.completed() == counts.confirmed());
          o.check("lost = 0", counts.lost() == 0);
          o.note(
              "503s answered in %s ms; health and reads in %s ms; first 202 %.1f s after the"
                  + " alarm cleared%s",
              blocked.stream().map(s -> String.valueOf(s.millis())).toList(),
              otherAnswers,
              againSeconds,
              counts.ranUnconfirmed() > 0
                  ? "; ⚠ " + counts.ranUnconfirmed() + " tasks answered 503 ran anyway"
                  : "");
        });
  }

  /** {@code n} submits at the same moment, each on its own thread. */
  private static List<Ledger.Submission> submitTogether(Ledger ledger, int n) throws Exception {
    try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
      List<Future<Ledger.Submission>> answers = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        answers.add(pool.submit(() -> ledger.submit(producer, 0)));
      }
      List<Ledger.Submission> submissions = new ArrayList<>();
      for (Future<Ledger.Submission> answer : answers) {
        submissions.add(answer.get(60, TimeUnit.SECONDS));
      }
      return submissions;
    }
  }

  private interface Request {
    Object send() throws IOException;
  }

  /** Milliseconds until a request was answered (or failed). */
  private static long timed(Request request) {
    long start = System.nanoTime();
    try {
      request.send();
    } catch (IOException e) {
      return Long.MAX_VALUE;
    }
    return (System.nanoTime() - start) / 1_000_000;
  }

  // ---------------------------------------------------------------------------------------------
  // 5. graceful stop of every worker

  @Test
  @Order(5)
  void stoppingEveryWorkerWithSigtermLosesNothingAndAcknowledgesNothingUnrun() {
    scenario(
        "5. SIGTERM to every worker, then start",
        o -> {
          Ledger ledger = ledger("sigterm");
          Map<String, String> env =
              Map.of("LOVAGE_IO_CONCURRENCY", "10", "LOVAGE_SHUTDOWN_GRACE", "30s");
          List<AppProcess> first = workers(ledger, 2, env);
          int tasks = 300;
          ledger.submitBatches(producer, tasks, 0.2);
          boolean inFlight =
              Deadline.poll(Duration.ofSeconds(120), () -> ledger.confirmedRun() >= tasks / 3);

          first.forEach(AppProcess::terminate);
          List<Integer> exits =
              first.stream().map(w -> w.awaitExit(Duration.ofSeconds(60))).toList();
          // Nothing consumes the queue now: every task is either finished or back in the queue.
          Set<String> ran = new HashSet<>(ledger.runs().keySet());
          Map<String, String> ids = ledger.confirmed();
          boolean recorded =
              Deadline.poll(
                  Duration.ofSeconds(60),
                  () -> ran.stream().allMatch(k -> "SUCCESS".equals(state(ids.get(k)))));
          long succeeded = ids.values().stream().filter(id -> "SUCCESS".equals(state(id))).count();
          long queued = RabbitAdmin.ready(ledger.queue());

          workers(ledger, 2, env);
          Counts counts = ledger.count(producer, SETTLE);

          o.counts(counts, ledger);
          o.check("tasks were running at the SIGTERM", inFlight);
          o.check("both workers exited 0", exits.stream().allMatch(e -> e == 0));
          o.check("every task that had started finished before the exit", recorded);
          o.check(
              "nothing acknowledged unrun: finished + still queued = confirmed",
              succeeded + queued == counts.confirmed());
          o.check("every 202 completed", counts.completed() == counts.confirmed());
          o.check("lost = 0", counts.lost() == 0);
          o.check("nothing ran twice (the grace was long enough)", counts.ranTwice() == 0);
          o.note(
              "at the stop: %d finished, %d still queued, exit codes %s", succeeded, queued, exits);
        });
  }

  private static String state(String id) {
    return producer.task(id).map(t -> t.get("state").asString()).orElse("404");
  }

  // ---------------------------------------------------------------------------------------------
  // 6. a poison task that kills its worker every time

  @Test
  @Order(6)
  void aTaskThatKillsItsWorkerEveryTimeIsDeadLetteredAndTheOthersComplete() {
    scenario(
        "6. poison task (demo.crash) with a restarting worker",
        o -> {
          Ledger ledger = ledger("poison");
          String poison =
              producer.submitTask(
                  "{\"task\": \"demo.crash\", \"queue\": \"" + ledger.queue() + "\"}");
          ledger.submitBatches(producer, 50, 0);
          // The test plays supervisor, as docker's restart policy would: a worker that dies is
          // started again, one at a time. Prefetch 1: the poison does not take others with it.
          int crashes = 0;
          AppProcess last = null;
          boolean survived = false;
          // Bounded: a worker that neither dies nor dead-letters the poison ends the loop.
          while (!"FAILURE".equals(state(poison)) && crashes <= 10 && !survived) {
            AppProcess worker =
                AppProcess.startWorker(ledger.workerEnv(Map.of("LOVAGE_PREFETCH", "1")));
            processes.add(worker);
            last = worker;
            survived =
                !Deadline.poll(
                    Duration.ofSeconds(90),
                    () -> !worker.isAlive() || "FAILURE".equals(state(poison)));
            if (!worker.isAlive()) {
              crashes++;
            }
          }
          if (last == null || !last.isAlive()) {
            processes.add(AppProcess.startWorker(ledger.workerEnv(Map.of())).awaitHealthy());
          }
          Counts marks = ledger.count(producer, SETTLE);
          var failed = producer.task(poison);
          Deadline.poll(
              Duration.ofSeconds(60), () -> deadLetterOf(ledger.queue(), poison).isPresent());
          String reason =
              deadLetterOf(ledger.queue(), poison)
                  .map(d -> d.get("reason").asString(""))
                  .orElse("no dead letter");
          boolean deadLettered = reason.contains("delivered 6 times");
          Counts poisonCounts =
              new Counts(1, 1, 0, 0, deadLettered ? 1 : 0, deadLettered ? 0 : 1, 0, 0, 0, Map.of());

          o.counts(marks.plus(poisonCounts), ledger);
          o.check("the worker died 5 times, then dead-lettered the poison", crashes == 5);
          o.check(
              "the poison is a FAILURE with WorkerLostError",
              failed.map(t -> t.at("/error/type").asString()).orElse("").equals("WorkerLostError"));
          o.check("its dead letter says why", deadLettered);
          o.check("every other task completed", marks.completed() == marks.confirmed());
          o.check("lost = 0", marks.lost() == 0 && poisonCounts.lost() == 0);
          o.check("no other task ran twice", marks.ranTwice() == 0);
          o.note("%d worker crashes; dead letter reason: \"%s\"", crashes, reason);
        });
  }

  private static Optional<JsonNode> deadLetterOf(String queue, String taskId) {
    try {
      var r = producer.get("/dead-letters?queue=" + queue + "&limit=500");
      if (r.statusCode() != 200) {
        return Optional.empty();
      }
      for (var d : Json.MAPPER.readTree(r.body()).get("deadLetters")) {
        if (taskId.equals(d.get("taskId").asString(null))) {
          return Optional.of(d);
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 7. bad input at every door

  @Test
  @Order(7)
  void badInputAtEveryDoorGetsAClearErrorOrADeadLetterAndRunsNothing() {
    scenario(
        "7. bad input at every door",
        o -> {
          String queue = RabbitFixture.uniqueQueue("faults.input");
          queues.add(queue);
          AppProcess worker =
              AppProcess.workerWithTasks(queue, System.getProperty("lovage.example.tasks.jar"));
          processes.add(worker);
          Path canary = Path.of("target", "faults", "canary-" + UUID.randomUUID()).toAbsolutePath();
          Files.createDirectories(canary.getParent());
          BadInputProbes probes = new BadInputProbes(producer, worker, queue, canary);
          // A second worker runs signed messages only, trusting one certificate made here.
          String signedQueue = RabbitFixture.uniqueQueue("faults.signed");
          queues.add(signedQueue);
          Path keys = Files.createDirectories(canary.resolveSibling("keys-" + UUID.randomUUID()));
          TestCertificates.Signer signer = TestCertificates.make(keys, "faults-signer");
          Path store = Files.createDirectories(keys.resolve("trusted"));
          Files.copy(signer.certificate(), store.resolve("faults-signer.pem"));
          AppProcess signedWorker =
              AppProcess.worker(
                  signedQueue, Map.of("LOVAGE_SECURITY_CERT_STORE", store.toString()));
          processes.add(signedWorker);
          BadInputProbes signatures =
              new BadInputProbes(producer, signedWorker, signedQueue, canary);

          probes.sendAll();
          signatures.sendSignatureProbes(
              io.lovage.security.MessageSigner.fromPem(
                  signer.key(), signer.certificate(), io.lovage.security.WireFormat.CELERY_5_2));
          probes.settle(Duration.ofSeconds(90));
          signatures.settle(Duration.ofSeconds(30));
          Counts counts = probes.counts().plus(signatures.counts());
          List<BadInputProbes.Probe> all = new ArrayList<>(probes.probes());
          all.addAll(signatures.probes());

          o.counts(counts);
          for (BadInputProbes.Probe p : all) {
            o.check(p.door + ": " + p.input, p.ok);
          }
          o.check("nothing ran a command (no canary file)", !probes.canaryExists());
          o.check(
              "producer and workers alive and healthy",
              producer.isAlive()
                  && worker.isAlive()
                  && signedWorker.isAlive()
                  && health(producer) == 200
                  && health(worker) == 200
                  && health(signedWorker) == 200);
          o.note(
              "%d probes: %s",
              all.size(),
              all.stream()
                  .map(p -> p.door + " " + p.input + " → " + p.outcome)
                  .collect(Collectors.joining("; ")));
        });
  }

  private static int health(AppProcess app) {
    try {
      return app.get("/health").statusCode();
    } catch (IOException e) {
      return 0;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 8. soak

  @Test
  @Order(8)
  void aSoakWithAWorkerKilledEvery20SecondsLosesNothingAndMemoryStaysFlat() {
    Assumptions.assumeTrue(PROFILE.soakTasks() > 0, "the soak runs in the full profile only");
    scenario(
        "8. soak: " + PROFILE.soakTasks() + " tasks, a worker killed every 20 s",
        o -> {
          Ledger ledger = ledger("soak");
          // The producer measured keeps a small index, so that its memory can be flat once the
          // index is full; task states are read from the suite's producer, which keeps them all.
          AppProcess measured =
              AppProcess.producer(
                  Map.of("LOVAGE_RESULTS_MAX_TASKS", "5000", "LOVAGE_RESULT_EXPIRES", "15m"));
          processes.add(measured);
          o.note(
              "the soak's producer caught up with the event stream in %.1f s",
              measured.historyReadSeconds());
          Map<String, String> env = Map.of("LOVAGE_IO_CONCURRENCY", "20");
          AppProcess steady = workers(ledger, 1, env).get(0);
          List<Long> killed = new CopyOnWriteArrayList<>();
          AppProcess[] victim = {workers(ledger, 1, env).get(0)};
          MemoryProbe producerMemory = new MemoryProbe("producer", measured.pid());
          MemoryProbe workerMemory = new MemoryProbe("worker", steady.pid());
          long start = System.nanoTime();
          ScheduledExecutorService timers = Executors.newScheduledThreadPool(2);
          int target = PROFILE.soakTasks();
          // Two clients submit one task at a time (the common path) while batches of 100 keep up
          // the pace, so the run lasts about soakSeconds with a kill every 20 s throughout.
          double perSecond = (double) target / PROFILE.soakSeconds();
          try (Submitters clients = new Submitters(2, ledger, measured, 0, target)) {
            timers.scheduleAtFixedRate(
                () -> {
                  try {
                    killed.add(victim[0].pid());
                    victim[0].kill();
                    victim[0] = AppProcess.startWorker(ledger.workerEnv(env));
                    processes.add(victim[0]);
                  } catch (RuntimeException e) {
                    System.err.println("[faults] kill and restart failed: " + e);
                  }
                },
                20,
                20,
                TimeUnit.SECONDS);
            timers.scheduleAtFixedRate(
                () -> {
                  double at = (System.nanoTime() - start) / 1e9;
                  try {
                    producerMemory.sample(at);
                    workerMemory.sample(at);
                  } catch (RuntimeException e) {
                    System.err.println("[faults] memory sample failed: " + e);
                  }
                },
                5,
                10,
                TimeUnit.SECONDS);
            long deadline = System.nanoTime() + Duration.ofMinutes(15).toNanos();
            while (ledger.confirmedCount() < target && System.nanoTime() < deadline) {
              double due = Math.min(target, perSecond * (System.nanoTime() - start) / 1e9);
              if (ledger.confirmedCount() + 100 <= due
                  && ledger.confirmedCount() - ledger.confirmedRun() < 2_000) {
                ledger.submitBatches(
                    measured, (int) Math.min(100, target - ledger.confirmedCount()), 0);
              } else {
                // Until the next batch is due and the workers are not too far behind.
                Deadline.poll(
                    Duration.ofSeconds(5),
                    () ->
                        ledger.confirmedCount() + 100
                                <= perSecond * (System.nanoTime() - start) / 1e9
                            && ledger.confirmedCount() - ledger.confirmedRun() < 2_000);
              }
            }
            o.check("all submitted within 15 min", ledger.confirmedCount() >= target);
          } finally {
            timers.shutdown();
            timers.awaitTermination(2, TimeUnit.MINUTES);
          }
          double seconds = (System.nanoTime() - start) / 1e9;
          MemoryProbe.writeCsv(
              Path.of("target", "faults", "soak-memory.csv"), producerMemory, workerMemory);
          Counts counts = ledger.count(producer, SETTLE);
          long others = ranTwiceOtherThanBy(ledger, killed::contains);
          // Warm-up: the first quarter of the run, past which the measured index is full.
          double warmUp = seconds / 4;
          List<MemoryProbe.Verdict> memory =
              List.of(
                  producerMemory.liveHeap(warmUp, 0.25, 8 * 1024),
                  workerMemory.liveHeap(warmUp, 0.25, 8 * 1024),
                  producerMemory.rss(warmUp, 0.25, 64 * 1024),
                  workerMemory.rss(warmUp, 0.25, 64 * 1024));

          o.counts(counts, ledger);
          o.check("every 202 completed", counts.completed() == counts.confirmed());
          o.check("lost = 0", counts.lost() == 0);
          o.check("only tasks a killed worker had started ran twice", others == 0);
          for (MemoryProbe.Verdict v : memory) {
            o.check(v.name() + " " + v.measure() + " flat after warm-up", v.flat());
          }
          o.note(
              "%.0f s; %d workers killed; flat = median of the last third of samples after %.0f s of"
                  + " warm-up within +25%% (+8 MiB live heap, +64 MiB RSS) of the first third: %s",
              seconds,
              killed.size(),
              warmUp,
              memory.stream().map(MemoryProbe.Verdict::describe).collect(Collectors.joining("; ")));
        });
  }

  // ---------------------------------------------------------------------------------------------
  // 9 and 10. a chord across a worker kill and a broker restart

  /** Header tasks of the chord scenarios. */
  private static final int CHORD_SIZE = 1_000;

  @Test
  @Order(9)
  void aChordSurvivesItsJoiningWorkerKilledMidHeaderAndFiresItsBodyOnce() {
    scenario(
        "9. chord of 1,000, kill -9 the joining worker mid-header",
        o -> {
          Ledger ledger = ledger("chordkill");
          Map<String, String> env = Map.of("LOVAGE_IO_CONCURRENCY", "20");
          // Started one after the other: the first is the chord queue's active consumer, the
          // worker that joins, and the one killed.
          AppProcess joiner = workers(ledger, 1, env).getFirst();
          workers(ledger, 1, env);
          chordAcross(o, ledger, "kill", joiner::kill);
        });
  }

  @Test
  @Order(10)
  void aChordSurvivesABrokerRestartMidHeaderAndFiresItsBodyOnce() {
    scenario(
        "10. chord of 1,000, broker restart mid-header",
        o -> {
          Ledger ledger = ledger("chordrestart");
          workers(ledger, 2, Map.of("LOVAGE_IO_CONCURRENCY", "20"));
          chordAcross(o, ledger, "restart", RabbitFixture::restartBroker);
        });
  }

  /** Sends the chord, injects {@code fault} once a quarter of its header ran, and counts. */
  private static void chordAcross(Outcome o, Ledger ledger, String fault, Runnable inject) {
    try (ChordRun chord = new ChordRun(ledger, CHORD_SIZE).submit(0.05)) {
      boolean midHeader =
          Deadline.poll(Duration.ofSeconds(120), () -> chord.headerRan() >= CHORD_SIZE / 4);
      long ranBefore = chord.headerRan();
      inject.run();
      Optional<JsonNode> body = chord.awaitBody(producer, SETTLE);
      Counts counts = chord.counts(body);

      o.counts(counts);
      o.check("the " + fault + " fell mid-header", midHeader && ranBefore < CHORD_SIZE);
      o.check("every header task ran", chord.headerRan() == CHORD_SIZE);
      o.check(
          "the body succeeded with 1,000 results in header order",
          body.isPresent() && chord.bodyCorrect(body.get()));
      o.check("the body ran exactly once", chord.bodyRuns() == 1);
      o.check("lost = 0", counts.lost() == 0);
      o.note(
          "%d header tasks had run at the %s; body %s, ran %d time(s)",
          ranBefore,
          fault,
          body.map(b -> b.path("state").asString()).orElse("not finished"),
          chord.bodyRuns());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // 11. the scheduler's leader killed again and again

  /** Producer replicas of scenario 11, each a scheduler replica. */
  private static final int REPLICAS = 3;

  /** How long the leader of scenario 11 leads before it is killed. */
  private static final Duration LEADS_FOR = Duration.ofSeconds(10);

  @Test
  @Order(11)
  void aScheduleEverySecondRunsEachSecondOnceWhileItsLeaderIsKilledAgainAndAgain() {
    scenario(
        "11. scheduler leader killed repeatedly (every: 1 s, " + REPLICAS + " replicas)",
        o -> {
          Ledger ledger = ledger("schedule");
          // A virtual host of its own: the suite's producer is a scheduler replica too, and the
          // lease and streams have fixed names.
          try (RabbitFixture.Vhost vhost = RabbitFixture.vhost("faults-scheduler")) {
            Map<String, String> env = Map.of("RABBITMQ_URI", vhost.uri());
            Map<String, String> workerEnv = new HashMap<>(env);
            workerEnv.put("LOVAGE_IO_CONCURRENCY", "8");
            workers(ledger, 1, workerEnv);
            List<AppProcess> replicas = new ArrayList<>();
            for (int i = 0; i < REPLICAS; i++) {
              replicas.add(replica(env));
            }
            replicas.forEach(AppProcess::awaitHealthy);
            String name = "faults-" + ledger.queue();
            var created =
                replicas
                    .getFirst()
                    .post(
                        "/schedules",
                        "application/json",
                        String.format(
                            "{\"name\": \"%s\", \"task\": \"demo.mark\", \"args\": [\"%s-tick\"],"
                                + " \"queue\": \"%s\", \"every\": 1}",
                            name, ledger.scenario(), ledger.queue()));
            o.check("the schedule was created (201)", created.statusCode() == 201);
            Instant start = Instant.now();

            List<Duration> failovers = new ArrayList<>();
            for (int kill = 1; kill <= PROFILE.schedulerKills(); kill++) {
              Instant next = start.plus(LEADS_FOR.multipliedBy(kill));
              Deadline.poll(LEADS_FOR.plusSeconds(30), () -> Instant.now().isAfter(next));
              AppProcess leader =
                  Await.until(Duration.ofSeconds(30), "a leader", () -> leaderAmong(replicas));
              leader.kill();
              Instant killed = Instant.now();
              replicas.remove(leader);
              replicas.add(replica(env)); // back to three, not waited for
              Await.until(
                  Duration.ofSeconds(30), "a new leader", () -> leaderAmong(replicas).isPresent());
              failovers.add(Duration.between(killed, Instant.now()));
            }
            Instant end = start.plus(LEADS_FOR.multipliedBy(PROFILE.schedulerKills() + 1));
            Deadline.poll(LEADS_FOR.plusSeconds(30), () -> Instant.now().isAfter(end));
            AppProcess survivor = replicas.stream().filter(AppProcess::isAlive).findFirst().get();
            survivor.awaitHealthy();
            o.check(
                "the schedule was deleted (204)",
                survivor.delete("/schedules/" + name).statusCode() == 204);
            Instant stopped = Instant.now();

            ScheduleRuns runs = ScheduleRuns.read(vhost, name, ledger, start, stopped);
            o.counts(runs.counts());
            o.check("no scheduled time was sent twice", runs.sentTwice() == 0);
            o.check("no scheduled time ran twice", runs.counts().ranTwice() == 0);
            o.check("missed = 0", runs.counts().lost() == 0);
            o.check("nothing ran that was not sent", runs.counts().ranUnconfirmed() == 0);
            o.check(
                "runs from the first second to the last",
                runs.first().isBefore(start.plusSeconds(3))
                    && runs.last().isAfter(stopped.minusSeconds(3)));
            o.note(
                "columns: runs expected, sent, -, ran, -, missed, ran twice, ran unsent;"
                    + " %d runs from %s to %s; %d kills, new leader (seen over REST) %s after each;"
                    + " latest send %s after its time",
                runs.counts().submitted(),
                runs.first(),
                runs.last(),
                failovers.size(),
                failovers.stream()
                    .map(d -> String.format(Locale.ROOT, "%.2f s", d.toMillis() / 1000.0))
                    .toList(),
                runs.maxLateness().isZero()
                    ? "(stream entries are not timestamped over AMQP 0-9-1)"
                    : String.format(Locale.ROOT, "%.2f s", runs.maxLateness().toMillis() / 1000.0));
            replicas.forEach(AppProcess::close);
          }
        });
  }

  /** A producer of scenario 11, closed with the scenario's other processes. */
  private AppProcess replica(Map<String, String> env) {
    AppProcess replica = AppProcess.startProducer(env);
    processes.add(replica);
    return replica;
  }

  private static Optional<AppProcess> leaderAmong(List<AppProcess> replicas) {
    for (AppProcess replica : replicas) {
      try {
        JsonNode health = Json.MAPPER.readTree(replica.get("/health").body());
        if (health.at("/components/scheduler/leader").asBoolean(false)) {
          return Optional.of(replica);
        }
      } catch (IOException | RuntimeException notUpYet) {
        // a replica still starting
      }
    }
    return Optional.empty();
  }

  // ---------------------------------------------------------------------------------------------
  // 12. a global rate limit across three workers, one killed and another started

  /** The global limit of scenario 12, in tasks per second. */
  private static final int GLOBAL_RATE = 50;

  /**
   * How long scenario 12 measures the rate: the issue's 60 s in the full profile, 30 s on every
   * build (still 1,500 starts, where 10 % is 150, with the kill and the new worker inside it).
   */
  private static final Duration RATE_WINDOW = Duration.ofSeconds(PROFILE.rateWindowSeconds());

  @Test
  @Order(12)
  void aGlobalRateLimitHoldsWithinTenPercentWhileOneOfThreeWorkersIsKilledAndReplaced() {
    scenario(
        "12. global rate limit " + GLOBAL_RATE + "/s on three workers, kill -9 one, start one",
        o -> {
          Ledger ledger = ledger("globalrate");
          try {
            Map<String, String> env =
                Map.of(
                    "LOVAGE_IO_CONCURRENCY",
                    "8",
                    "LOVAGE_RATE_LIMITS",
                    "demo.mark=" + GLOBAL_RATE + "/s@global");
            List<AppProcess> workers = workers(ledger, 3, env);
            // Enough for the window and the ramp before it (a second or two): the limit, not the
            // queue, sets the pace. What is left after the window runs at the limit before the
            // count, so the margin is kept small.
            int tasks = (int) (GLOBAL_RATE * (RATE_WINDOW.toSeconds() + 10));
            ledger.submitBatches(producer, tasks, 0);
            boolean steady =
                Deadline.poll(Duration.ofSeconds(60), () -> runCount(ledger) >= GLOBAL_RATE);
            long from = System.nanoTime();
            long ranAtStart = runCount(ledger);

            awaitWindow(from, 0.25);
            workers.get(0).kill();
            awaitWindow(from, 0.5);
            long startedAt = System.nanoTime();
            AppProcess replacement = AppProcess.startWorker(ledger.workerEnv(new HashMap<>(env)));
            processes.add(replacement);
            replacement.awaitHealthy();
            double joinedAfter = (System.nanoTime() - startedAt) / 1e9;
            awaitWindow(from, 1);
            long ranInWindow = runCount(ledger) - ranAtStart;
            double seconds = (System.nanoTime() - from) / 1e9;
            double rate = ranInWindow / seconds;

            Counts counts = ledger.count(producer, SETTLE);
            o.counts(counts, ledger);
            o.check("the limit was reached before the window", steady);
            o.check("every 202 completed", counts.completed() == counts.confirmed());
            o.check("lost = 0", counts.lost() == 0);
            o.check(
                "the fleet ran within 10 % of the global rate",
                Math.abs(rate - GLOBAL_RATE) <= GLOBAL_RATE * 0.1);
            o.note(
                "%d tasks started in %.1f s: %.1f/s for a global limit of %d/s (%+.1f %%); one of"
                    + " three workers killed at %.0f s, a new one started at %.0f s (healthy %.1f s"
                    + " later)",
                ranInWindow,
                seconds,
                rate,
                GLOBAL_RATE,
                (rate - GLOBAL_RATE) * 100.0 / GLOBAL_RATE,
                RATE_WINDOW.toSeconds() * 0.25,
                RATE_WINDOW.toSeconds() * 0.5,
                joinedAfter);
          } finally {
            RabbitFixture.deleteQueues(LovageTopology.rateTokens("demo.mark"));
          }
        });
  }

  /** Every run in the mark file, a task that ran twice counted twice: the tasks started. */
  private static long runCount(Ledger ledger) {
    return ledger.runs().values().stream().mapToLong(List::size).sum();
  }

  /** Waits until {@code fraction} of scenario 12's window since {@code from} has passed. */
  private static void awaitWindow(long from, double fraction) {
    long until = from + Math.round(RATE_WINDOW.toNanos() * fraction);
    Deadline.poll(RATE_WINDOW.plusSeconds(30), () -> System.nanoTime() >= until);
  }

  // ---------------------------------------------------------------------------------------------
  // 13. a concurrency limit per customer across three workers, one killed holding permits

  private static final int CUSTOMERS = 4;

  @Test
  @Order(13)
  void aConcurrencyLimitOfTwoPerCustomerIsNeverExceededAndAKilledWorkersPermitsComeBack() {
    scenario(
        "13. concurrency 2 per customer on three workers, kill -9 one holding permits",
        o -> {
          Ledger ledger = ledger("concurrency");
          Map<String, String> env =
              Map.of(
                  "LOVAGE_IO_CONCURRENCY",
                  "8",
                  "LOVAGE_CONCURRENCY_LIMITS",
                  "demo.mark=2:customer_id");
          List<AppProcess> workers = workers(ledger, 3, env);
          AppProcess victim = workers.get(0);
          ledger.submitBatches(
              producer,
              PROFILE.concurrencyTasks(),
              0.3,
              key -> Map.of("customer_id", customerOf(key), "trace", true));
          boolean holding =
              Deadline.poll(
                  Duration.ofSeconds(120),
                  () ->
                      ledger.spans().stream()
                              .anyMatch(span -> span.pid() == victim.pid() && span.end() < 0)
                          && ledger.runsBy(victim.pid()) >= 5);
          // The time before the signal: its permits come back only once it is dead, so no run
          // elsewhere can start before this, while a time taken after kill() returns could fall
          // after another worker's first run with the returned permits (counted as 3 at once).
          long killedAt = System.currentTimeMillis();
          victim.kill();
          Counts counts = ledger.count(producer, SETTLE);

          List<Ledger.Span> spans = ledger.spans();
          Map<String, Integer> most = new java.util.TreeMap<>();
          Map<String, Integer> mostAfterKill = new java.util.TreeMap<>();
          for (int c = 0; c < CUSTOMERS; c++) {
            String customer = "c" + c;
            List<Ledger.Span> theirs =
                spans.stream().filter(span -> customerOf(span.key()).equals(customer)).toList();
            most.put(customer, mostAtOnce(theirs, killedAt, Long.MIN_VALUE));
            mostAfterKill.put(customer, mostAtOnce(theirs, killedAt, killedAt));
          }
          long unfinished =
              spans.stream().filter(span -> span.end() < 0 && span.pid() != victim.pid()).count();

          o.counts(counts, ledger);
          o.check("the killed worker held permits (a run in flight)", holding);
          o.check("every 202 completed", counts.completed() == counts.confirmed());
          o.check("lost = 0", counts.lost() == 0);
          o.check(
              "never more than 2 of a customer at once",
              most.values().stream().allMatch(n -> n <= 2));
          o.check(
              "after the kill every customer ran 2 at once again (its permits came back)",
              mostAfterKill.values().stream().allMatch(n -> n == 2));
          o.check("every run of a live worker ended", unfinished == 0);
          o.note(
              "most at once per customer (start/end traces of %d runs, the killed worker's open"
                  + " runs ending at the kill): %s; after the kill: %s",
              spans.size(), most, mostAfterKill);
        });
  }

  private static String customerOf(String key) {
    return "c" + Long.parseLong(key.substring(key.lastIndexOf('-') + 1)) % CUSTOMERS;
  }

  /**
   * The most runs at once among {@code spans} from {@code from} on (epoch ms), a run that never
   * ended ending at {@code killedAt}; a run ending when another starts does not overlap it.
   */
  private static int mostAtOnce(List<Ledger.Span> spans, long killedAt, long from) {
    List<long[]> events = new ArrayList<>();
    for (Ledger.Span span : spans) {
      long end = span.end() < 0 ? killedAt : span.end();
      if (end > from) {
        events.add(new long[] {Math.max(span.start(), from), +1});
        events.add(new long[] {end, -1});
      }
    }
    events.sort(java.util.Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
    int now = 0;
    int most = 0;
    for (long[] event : events) {
      now += (int) event[1];
      most = Math.max(most, now);
    }
    return most;
  }

  // ---------------------------------------------------------------------------------------------
  // 14. a three-node cluster: the node that leads the task queue is killed while tasks flow

  /** Submitting clients per producer replica in scenario 14, and tasks per request. */
  private static final int CLUSTER_CLIENTS = 2;

  private static final int CLUSTER_BATCH = 50;

  /** How soon after the node's loss every producer replica and worker must be working again. */
  private static final Duration FAILOVER_WITHIN = Duration.ofSeconds(30);

  @Test
  @Order(14)
  void killingTheNodeThatLeadsTheTaskQueueLosesNothingAndEveryReplicaAnswersForEveryTask() {
    assumeTheCluster();
    int tasks = PROFILE.clusterTasks();
    scenario(
        "14. cluster of 3: SIGKILL the node leading the task queue while "
            + String.format(Locale.ROOT, "%,d", tasks)
            + " tasks flow (2 producer replicas, 2 workers)",
        o -> {
          long waiting = System.nanoTime();
          RabbitCluster cluster = FaultInjectionIT.cluster.join();
          double clusterWait = (System.nanoTime() - waiting) / 1e9;
          // One ledger per producer replica (each its own clients), one queue and mark file.
          Ledger first = ledger("clusterA");
          Ledger second = new Ledger("clusterB", first.queue(), first.marks());
          Map<String, String> env = new HashMap<>(cluster.env());
          env.putAll(producerEnv());
          // Past the suite's 5 minutes: when tasks are missing, the scenario waits for them up to
          // 3 minutes per replica and then asks a new producer, which must still find them.
          env.put("LOVAGE_RESULT_EXPIRES", "30m");
          List<AppProcess> replicas = List.of(replica(env), replica(env));
          env.put("LOVAGE_IO_CONCURRENCY", "20");
          List<AppProcess> workers = workers(first, 2, env);
          replicas.forEach(r -> r.awaitHealthy().awaitHistoryRead());
          int leader =
              Await.until(
                  Duration.ofSeconds(30),
                  "the leader of " + first.queue(),
                  () -> cluster.leaderOf(first.queue()));
          // Usually the same node: the first to declare, with leaders placed balanced. When it is,
          // the workers' outcome events wait for a new stream leader (see Worker.LATE_CONFIRM).
          Optional<Integer> eventsLeader = cluster.leaderOf(LovageTopology.EVENT_STREAM);
          Map<Long, Integer> consumingOn = cluster.consumingNodes(workers);
          Map<Long, Long> prefetch = new HashMap<>();
          for (AppProcess worker : workers) {
            prefetch.put(worker.pid(), prefetchOf(worker, first.queue()));
          }

          Map<AppProcess, Double> gaps = new java.util.LinkedHashMap<>();
          try (Submitters a =
                  new Submitters(
                      CLUSTER_CLIENTS, CLUSTER_BATCH, first, replicas.get(0), 0, tasks / 2);
              Submitters b =
                  new Submitters(
                      CLUSTER_CLIENTS,
                      CLUSTER_BATCH,
                      second,
                      replicas.get(1),
                      0,
                      tasks - tasks / 2)) {
            // Mid-flow: a third submitted, the workers running them, two thirds still to come.
            Deadline.poll(
                Duration.ofMinutes(2),
                () -> first.confirmedCount() + second.confirmedCount() >= tasks / 3);
            Map<Long, Long> ranBefore = new HashMap<>();
            workers.forEach(w -> ranBefore.put(w.pid(), first.runsBy(w.pid())));
            long killedAt = System.nanoTime();
            cluster.kill(leader);
            // Working again: a replica's first 202 for a request sent after the kill; a worker's
            // first run beyond the deliveries it may have held when the node went.
            Deadline.poll(
                FAILOVER_WITHIN,
                () -> {
                  for (int i = 0; i < replicas.size(); i++) {
                    Ledger ledger = i == 0 ? first : second;
                    AppProcess replica = replicas.get(i);
                    ledger.submissions().stream()
                        .filter(s -> s.confirmed() && s.sentNanos() > killedAt)
                        .findFirst()
                        .ifPresent(
                            s -> gaps.putIfAbsent(replica, (s.answeredNanos() - killedAt) / 1e9));
                  }
                  for (AppProcess w : workers) {
                    if (first.runsBy(w.pid()) > ranBefore.get(w.pid()) + prefetch.get(w.pid())) {
                      gaps.putIfAbsent(w, (System.nanoTime() - killedAt) / 1e9);
                    }
                  }
                  return gaps.size() == replicas.size() + workers.size();
                });
            o.check(
                "every task submitted within 5 min",
                a.awaitDone(Duration.ofMinutes(5)) && b.awaitDone(Duration.ofMinutes(5)));
          }
          Counts counts =
              first.count(replicas.get(0), SETTLE).plus(second.count(replicas.get(1), SETTLE));
          // Every replica knows every task: each asked for the other's tasks too.
          Map<String, String> crossStates = new HashMap<>();
          crossStates.putAll(first.awaitFinalStates(replicas.get(1), Duration.ofMinutes(1)));
          crossStates.putAll(second.awaitFinalStates(replicas.get(0), Duration.ofMinutes(1)));
          long crossSuccess = crossStates.values().stream().filter("SUCCESS"::equals).count();
          List<Ledger.Submission> all = new ArrayList<>(first.submissions());
          all.addAll(second.submissions());
          long refused = all.stream().filter(s -> !s.confirmed()).count();
          // A worker whose consuming connection was on the lost node held up to its prefetch of
          // deliveries there: it ran them, could not acknowledge them, and they came again.
          long held =
              workers.stream()
                  .filter(w -> consumingOn.get(w.pid()) == leader)
                  .mapToLong(w -> prefetch.get(w.pid()))
                  .sum();

          if (counts.lost() > 0) {
            // Whether the events are missing from the stream or only from the replicas' indexes:
            // a producer started now reads the whole stream again.
            AppProcess late = replica(env).awaitHealthy().awaitHistoryRead();
            Map<String, String> lostIds = new HashMap<>();
            for (Ledger ledger : List.of(first, second)) {
              Map<String, String> states = ledger.awaitFinalStates(late, Duration.ofSeconds(20));
              states.forEach(
                  (key, state) -> {
                    if (!"SUCCESS".equals(state)) {
                      lostIds.put(ledger.confirmed().get(key), state);
                    }
                  });
            }
            o.note(
                "a producer started after the loss finds %d of them not SUCCESS, e.g. %s",
                lostIds.size(), lostIds.entrySet().stream().limit(5).toList());
            o.note(
                "the event stream on the nodes left: %s",
                cluster.describe(LovageTopology.EVENT_STREAM, leader));
          }
          o.counts(counts, first);
          o.check("every 202 completed", counts.completed() == counts.confirmed());
          o.check("lost = 0", counts.lost() == 0);
          o.check(
              "every replica answers SUCCESS for every task (" + crossSuccess + ")",
              crossSuccess == counts.confirmed());
          o.check(
              "only 202 and 503 answers",
              all.stream().allMatch(s -> s.status() == 202 || s.status() == 503));
          o.check(
              "only deliveries held on the lost node ran twice (at most " + held + ")",
              counts.ranTwice() <= held);
          o.check(
              "every replica and worker working again within " + FAILOVER_WITHIN.toSeconds() + " s",
              gaps.size() == replicas.size() + workers.size());
          o.check(
              "producers and workers recovered by themselves (same processes)",
              replicas.stream().allMatch(AppProcess::isAlive)
                  && workers.stream().allMatch(AppProcess::isAlive));
          String rejoined = "";
          if (PROFILE.full()) {
            long restarting = System.nanoTime();
            cluster.restart(leader);
            boolean back =
                Deadline.poll(
                    Duration.ofSeconds(60),
                    () -> cluster.runningNodes(leader).size() == RabbitCluster.NODES);
            o.check("the killed node rejoined the cluster", back);
            rejoined =
                String.format(
                    Locale.ROOT,
                    "; the killed node rejoined in %.1f s",
                    (System.nanoTime() - restarting) / 1e9);
          }
          o.note(
              "cluster started in %.1f s in the background (waited %.1f s for it); killed"
                  + " rabbit-c%d, the task queue's leader (the event stream's: rabbit-c%s), at %,d"
                  + " confirmed; working again after it (s): %s; %d answers 503 (%d ran"
                  + " anyway); %d ran twice, workers consuming on the lost node held at most %d%s",
              clusterStartSeconds,
              clusterWait,
              leader,
              eventsLeader.map(String::valueOf).orElse("?"),
              tasks / 3,
              gaps.entrySet().stream()
                  .map(
                      e ->
                          String.format(
                              Locale.ROOT,
                              "%s %.1f",
                              workers.contains(e.getKey())
                                  ? "worker" + (workers.indexOf(e.getKey()) + 1)
                                  : "producer" + (replicas.indexOf(e.getKey()) + 1),
                              e.getValue()))
                  .collect(Collectors.joining(", ")),
              refused,
              counts.ranUnconfirmed(),
              counts.ranTwice(),
              held,
              rejoined);
        });
  }

  /** Messages scenario 15's client publishes before its events that no stream takes. */
  private static final int ELSEWHERE = 25;

  /** How long scenario 15's events flow, and when in that time the stream's leader is killed. */
  private static final Duration EVENTS_FLOW = Duration.ofSeconds(8);

  private static final Duration EVENTS_KILL_AT = Duration.ofSeconds(2);

  /**
   * RabbitMQ 3.10 resends what a channel had not had confirmed when a stream's leader changed
   * numbered by the channel's count of publishes, not by its count of that stream's messages; the
   * new leader then drops the channel's next messages to the stream as duplicates yet confirms them
   * (fixed in 4.0, rabbitmq-server#12236). Scenario 14 lost 25 task outcomes so in CI, as many as
   * the worker had sent heartbeats no stream takes. Here the client publishes 25 such messages,
   * then task events at up to 1,000/s; its publish timeout outlasts the flow, so only keeping
   * stream publishes on a channel of their own (StreamLanes) can save them, not a channel replaced
   * after the usual 5 s timeout. Without the lanes this lost 25 of 6,169 confirmed events.
   */
  @Test
  @Order(15)
  void killingTheEventStreamsLeaderLosesNoEventOfAClientThatPublishedElsewhereFirst() {
    assumeTheCluster();
    scenario(
        "15. cluster of 3: SIGKILL the leader of a stream while a client that first published "
            + ELSEWHERE
            + " messages no stream takes sends it task events",
        o -> {
          RabbitCluster cluster = FaultInjectionIT.cluster.join();
          long restoring = System.nanoTime();
          List<String> running = List.of();
          for (int asked = 1; asked <= RabbitCluster.NODES && running.isEmpty(); asked++) {
            running = cluster.runningNodes(asked);
          }
          for (int node = 1; node <= RabbitCluster.NODES; node++) {
            String name = "rabbit-c" + node + "@";
            if (running.stream().noneMatch(n -> n.startsWith(name))) {
              cluster.restart(node); // scenario 14 leaves the node it killed down
            }
          }
          double restored = (System.nanoTime() - restoring) / 1e9;
          int leaderNode = 3;
          int clientNode = 2;
          String id = UUID.randomUUID().toString().substring(0, 8);
          String exchange = "faults.events." + id;
          String stream = "faults.events." + id;
          // The stream's leader on node 3, where the declaring connection is; the client on node 2.
          io.lovage.broker.Topology topology =
              new io.lovage.broker.Topology(
                  List.of(new io.lovage.broker.Topology.Exchange(exchange, "topic")),
                  List.of(
                      new io.lovage.broker.Topology.Queue(
                          stream,
                          Map.of(
                              "x-queue-type", "stream", "x-queue-leader-locator", "client-local"))),
                  List.of(new io.lovage.broker.Topology.Binding(exchange, stream, "task.#")));
          try (io.lovage.broker.RabbitBroker declaring =
                  io.lovage.broker.RabbitBroker.connect(clusterNode(leaderNode));
              io.lovage.broker.RabbitBroker client =
                  io.lovage.broker.RabbitBroker.connect(
                      clusterNode(clientNode).withPublishTimeout(EVENTS_FLOW.plusSeconds(7)))) {
            declaring.declare(topology);
            client.declare(topology);
            o.check(
                "the stream's leader is on rabbit-c" + leaderNode,
                cluster.leaderOf(stream).orElse(0) == leaderNode);
            List<java.util.concurrent.CompletableFuture<Void>> elsewhere = new ArrayList<>();
            for (int i = 0; i < ELSEWHERE; i++) {
              elsewhere.add(
                  client.publish(
                      exchange,
                      "worker.heartbeat",
                      io.lovage.broker.Message.json(new byte[] {'{', '}'}, Map.of())));
            }
            elsewhere.forEach(f -> f.handle((ok, returned) -> null).join());

            Map<Integer, java.util.concurrent.CompletableFuture<Void>> sent = new HashMap<>();
            long start = System.nanoTime();
            boolean killed = false;
            for (int i = 0; System.nanoTime() - start < EVENTS_FLOW.toNanos(); i++) {
              if (!killed && System.nanoTime() - start > EVENTS_KILL_AT.toNanos()) {
                cluster.kill(leaderNode);
                killed = true;
              }
              byte[] body = ("{\"n\":" + i + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
              sent.put(
                  i,
                  client.publish(
                      exchange, "task.succeeded", io.lovage.broker.Message.json(body, Map.of())));
              java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
            }
            Set<Integer> confirmed = new HashSet<>();
            sent.forEach(
                (n, f) -> {
                  if (f.handle((ok, error) -> error == null).join()) {
                    confirmed.add(n);
                  }
                });
            Set<Integer> read = java.util.concurrent.ConcurrentHashMap.newKeySet();
            io.lovage.broker.Subscription reading =
                client.consume(
                    stream,
                    io.lovage.broker.ConsumeOptions.prefetch(1000)
                        .withArgument("x-stream-offset", "first"),
                    delivery -> {
                      read.add(Json.MAPPER.readTree(delivery.message().body()).get("n").asInt());
                      delivery.ack();
                    });
            Deadline.poll(Duration.ofSeconds(30), () -> read.containsAll(confirmed));
            reading.close();
            List<Integer> lost =
                confirmed.stream().filter(n -> !read.contains(n)).sorted().toList();
            o.counts(
                new Counts(
                    sent.size(),
                    confirmed.size(),
                    sent.size() - confirmed.size(),
                    confirmed.size() - lost.size(),
                    0,
                    lost.size(),
                    0,
                    0,
                    0,
                    Map.of()));
            o.check("every confirmed event is in the stream (lost = 0)", lost.isEmpty());
            o.note(
                "killed rabbit-c%d, the stream's leader, %.0f s into %.0f s of events from a client"
                    + " on rabbit-c%d; %d events confirmed, %d refused; lost: %s%s",
                leaderNode,
                EVENTS_KILL_AT.toMillis() / 1e3,
                EVENTS_FLOW.toMillis() / 1e3,
                clientNode,
                confirmed.size(),
                sent.size() - confirmed.size(),
                lost.size() > 10 ? lost.subList(0, 10) + "…" : lost,
                restored > 1
                    ? String.format(Locale.ROOT, "; the cluster restored first in %.1f s", restored)
                    : "");
          }
        });
  }

  /**
   * Scenarios 14 and 15 need the cluster of {@code .ci/rabbitmq-cluster}, whose nodes are this
   * machine's RabbitMQ: against another broker (CI's second pass, RabbitMQ 4.0 in a chroot) the
   * pass against this machine's RabbitMQ has run them.
   */
  private static void assumeTheCluster() {
    Assumptions.assumeTrue(
        RabbitCluster.runnable(), "needs .ci/rabbitmq-cluster and Debian's rabbitmq-server");
    Assumptions.assumeTrue(
        RabbitCluster.sameVersionAsTheTestBroker(),
        "the cluster's nodes are this machine's RabbitMQ, not the test broker's version: the pass"
            + " against this machine's RabbitMQ runs it");
  }

  /** Settings for a client of one node of the scenarios' cluster, reading streams over AMQP. */
  private static io.lovage.broker.BrokerSettings clusterNode(int node) {
    return io.lovage.broker.BrokerSettings.of(
            "amqp://guest:guest@localhost:568" + node + "/%2F", "faults-c" + node)
        .withStreams("off", null);
  }

  // ---------------------------------------------------------------------------------------------
  // the scenario frame

  /** What a scenario found: its counts, checks that failed, and notes for the table. */
  static final class Outcome {
    private Counts counts = Counts.none();
    private final List<String> failed = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    void counts(Counts counts) {
      this.counts = counts;
    }

    /** The counts, and how long the ledger's tasks took to settle after the fault. */
    void counts(Counts counts, Ledger ledger) {
      this.counts = counts;
      notes.add(ledger.settled());
    }

    void check(String what, boolean ok) {
      if (!ok) {
        failed.add(what);
      }
    }

    void note(String format, Object... args) {
      notes.add(String.format(Locale.ROOT, format, args));
    }

    String notes() {
      List<String> all = new ArrayList<>(notes);
      if (counts.lost() > 0 || !counts.notCompleted().isEmpty()) {
        all.add(
            "not completed by state: "
                + counts.notCompleted()
                + " ("
                + counts.lostButRan()
                + " of the lost ran)");
      }
      return String.join("; ", all);
    }
  }

  private interface ScenarioBody {
    void run(Outcome outcome) throws Exception;
  }

  /** Runs one scenario; its row goes to the table whether it passes, fails or breaks. */
  private static void scenario(String name, ScenarioBody body) {
    Outcome outcome = new Outcome();
    long start = System.nanoTime();
    Throwable broke = null;
    try {
      body.run(outcome);
    } catch (Throwable t) {
      broke = t;
      outcome.check("ran to the end (" + t + ")", false);
    } finally {
      report.add(
          new FaultReport.Row(
              name,
              outcome.counts,
              (System.nanoTime() - start) / 1e9,
              List.copyOf(outcome.failed),
              outcome.notes()));
    }
    if (!outcome.failed.isEmpty()) {
      AssertionError error = new AssertionError(name + ": " + String.join("; ", outcome.failed));
      if (broke != null) {
        error.initCause(broke);
      }
      // Thrown as is, not through fail(Throwable): that one drops the message, and the message is
      // all a CI log shows of which check failed.
      throw error;
    }
  }

  private Ledger ledger(String name) {
    String queue = RabbitFixture.uniqueQueue("faults." + name);
    queues.add(queue);
    Path marks = Path.of("target", "faults", queue + ".marks").toAbsolutePath();
    try {
      Files.createDirectories(marks.getParent());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Ledger(name, queue, marks);
  }

  /** Starts {@code n} workers of the scenario at once and waits until each is healthy. */
  private List<AppProcess> workers(Ledger ledger, int n, Map<String, String> env) {
    List<AppProcess> started = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      AppProcess worker = AppProcess.startWorker(ledger.workerEnv(new HashMap<>(env)));
      processes.add(worker);
      started.add(worker);
    }
    started.forEach(AppProcess::awaitHealthy);
    return started;
  }
}
