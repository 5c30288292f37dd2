package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.RateLimit;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.limits.LimitBook;
import io.lovage.limits.TaskLimits;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
import io.lovage.testing.RabbitFixture;
import io.lovage.worker.process.ProcessPoolSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Global rate limits on the real broker: one rate for the whole fleet, kept by tokens in a queue
 * every worker with the limit consumes and refills by its share.
 */
class GlobalRateLimitIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  private final LiveQueue queue = new LiveQueue("globalrate");
  private final String task = "it.global-" + UUID.randomUUID();

  /** When each run of the limited task started, in nanoseconds. */
  private final ConcurrentLinkedQueue<Long> starts = new ConcurrentLinkedQueue<>();

  private final List<Worker> workers = new ArrayList<>();
  private final List<RabbitBroker> brokers = new ArrayList<>();

  @AfterEach
  void stop() {
    workers.forEach(Worker::close);
    brokers.forEach(RabbitBroker::close);
    queue.close();
    RabbitFixture.deleteQueues(FleetTokens.queue(task));
  }

  @Test
  void threeWorkersTogetherStartAGloballyLimitedTaskAtTheLimitNotThreeTimesIt() {
    for (int i = 0; i < 3; i++) {
      startWorker(RateLimit.parse("20/s").global());
    }

    sendAll(160);

    Await.until(WAIT, "130 limited tasks", () -> starts.size() > 130);
    assertKeptTo(RateLimit.parse("20/s").global(), 3, 70, 130);
  }

  @Test
  void aHighGlobalRateLetsManyTasksStartPerTokenMessageAndStillHolds() {
    RateLimit limit = RateLimit.parse("400/s").global();
    assertEquals(8, limit.tokensPerMessage());
    startWorker(limit);
    startWorker(limit);

    sendAll(2000);

    Await.until(WAIT, "1,700 limited tasks", () -> starts.size() > 1700);
    assertKeptTo(limit, 2, 900, 1700);
  }

  @Test
  void whenOneOfTwoWorkersDiesTheOtherTakesItsShareOfTheTokens() {
    RabbitBroker dying = RabbitFixture.connect("globalrate-dies");
    brokers.add(dying);
    Worker first = new Worker(dying, registry(RateLimit.parse("10/s").global()), settings());
    workers.add(first);
    first.start();
    startWorker(RateLimit.parse("10/s").global());
    sendAll(120);
    Await.until(WAIT, "20 limited tasks", () -> starts.size() >= 20);

    // Its connection goes, as when its JVM is killed: its consumer and its share go with it.
    dying.close();
    int atDeath = starts.size();

    Await.until(WAIT, "50 more limited tasks", () -> starts.size() > atDeath + 55);
    double rate = rate(atDeath + 5, atDeath + 55);
    assertTrue(rate > 9 && rate < 11, "the one left ran " + rate + "/s, global limit 10/s");
  }

  @Test
  void aGlobalRateSetInTheLimitBookHoldsForWorkersRegisteredWithoutALimit() throws Exception {
    startWorker(RateLimit.NONE);
    startWorker(RateLimit.NONE);
    try (LimitBook book = new LimitBook(queue.broker, Clock.systemUTC()).follow()) {
      book.put(TaskLimits.of(task).withRate(RateLimit.parse("10/s").global())).join();
      Await.until(WAIT, "both workers sharing the tokens", () -> sharers() == 2);

      sendAll(80);

      Await.until(WAIT, "60 limited tasks", () -> starts.size() > 60);
      assertKeptTo(RateLimit.parse("10/s").global(), 2, 30, 60);
      book.delete(task).join();
    }
  }

  @Test
  void aTaskHeldForAGlobalTokenGoesBackToTheQueueWhenTheWorkerStops() {
    Worker worker = startWorker(RateLimit.parse("2/s").global());
    sendAll(20);
    Await.until(WAIT, "three limited tasks", () -> starts.size() >= 3);

    worker.close();

    int ran = starts.size();
    assertTrue(ran < 20, ran + " ran");
    Await.until(
        WAIT,
        "the " + (20 - ran) + " held tasks back in the queue",
        () -> RabbitFixture.messagesReady(queue.name) == 20 - ran);
    assertEquals(ran, starts.size(), "none ran after the stop");
  }

  private int sharers() {
    return queue.broker.inspect(FleetTokens.queue(task)).map(c -> c.consumers()).orElse(0);
  }

  /**
   * Asserts the workers kept to a global limit as a token bucket does: at no start had more tasks
   * started than the limit allows since the first start, plus one burst; and from the {@code
   * from}th start to the {@code to}th, with tasks waiting, they started at the limit, not below.
   *
   * <p>A window's rate alone says little: the tokens stored while the first tasks were still
   * arriving (slowly, on a busy machine) all fall into the window that follows.
   */
  private void assertKeptTo(RateLimit limit, int workers, int from, int to) {
    List<Long> sorted = starts.stream().sorted().toList();
    double perSecond = limit.perSecond();
    double ahead = 0;
    for (int i = 0; i < sorted.size(); i++) {
      ahead = Math.max(ahead, i + 1 - perSecond * (sorted.get(i) - sorted.get(0)) / 1e9);
    }
    int burst = burst(limit, workers);
    assertTrue(
        ahead <= burst,
        String.format(
            "%d workers started %.0f more than %s allows since the first, burst %d",
            workers, ahead, limit, burst));
    double rate = rate(from, to);
    assertTrue(
        rate > perSecond * 0.9,
        String.format(
            "%d workers ran %.1f/s from start %d to %d, limit %s", workers, rate, from, to, limit));
  }

  /**
   * The most tokens a fleet holds at once: its token queue full (the capacity, and for each worker
   * a message more, published while another's refill or its own last ones were on their way), and
   * what each worker holds: a token message unacknowledged, the rest of one it acknowledged, and a
   * message's worth for the time its first task takes to start.
   */
  private static int burst(RateLimit limit, int workers) {
    return FleetTokens.capacity(limit.perSecond()) + 4 * workers * limit.tokensPerMessage();
  }

  /** Starts per second between the {@code from}th and the {@code to}th start. */
  private double rate(int from, int to) {
    List<Long> sorted = starts.stream().sorted().toList();
    return (to - from) / ((sorted.get(to) - sorted.get(from)) / 1e9);
  }

  private Worker startWorker(RateLimit limit) {
    Worker worker = new Worker(queue.broker, registry(limit), settings());
    workers.add(worker);
    worker.start();
    return worker;
  }

  private TaskRegistry registry(RateLimit limit) {
    return TaskRegistry.builder()
        .register(
            task, call -> starts.add(System.nanoTime()), TaskOptions.DEFAULT.withRateLimit(limit))
        .build();
  }

  private WorkerSettings settings() {
    return new WorkerSettings(
        "globalrate-" + UUID.randomUUID() + "@test",
        List.of(new WorkerSettings.WeightedQueue(queue.name, 1)),
        4,
        1,
        Duration.ofSeconds(10),
        QueueType.QUORUM,
        200,
        WorkerSettings.DEFAULT_RESULT_MAX_BYTES,
        ProcessPoolSettings.DEFAULT);
  }

  private void sendAll(int count) {
    List<CompletableFuture<TaskMessage>> sent = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      sent.add(queue.client.send(TaskMessage.builder(task).ignoreResult(true).build(), queue.name));
    }
    sent.forEach(CompletableFuture::join);
  }
}
