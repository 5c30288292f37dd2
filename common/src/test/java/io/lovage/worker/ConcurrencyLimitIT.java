package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.ConcurrencyLimit;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
import io.lovage.testing.RabbitFixture;
import io.lovage.worker.process.ProcessPoolSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Concurrency limits across workers on the real broker: two workers, each on its own connection,
 * run a task limited to 2 per {@code customer_id}; the tasks' own start and end traces never show
 * three of one customer at once, also after one worker dies holding permits.
 */
class ConcurrencyLimitIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final List<String> CUSTOMERS = List.of("acme", "bolt", "cask");
  private static final int TASKS = 20;

  /** One run of the task: on which worker, for whom, from when to when (nanoTime). */
  private record Run(String id, String worker, String customer, long start, long end) {}

  private final LiveQueue queue = new LiveQueue("concurrency");
  private final String task = "concurrency-" + UUID.randomUUID().toString().substring(0, 8);
  private final ConcurrentLinkedQueue<Run> runs = new ConcurrentLinkedQueue<>();
  private final Map<String, Long> running = new java.util.concurrent.ConcurrentHashMap<>();

  /** Opened when the doomed worker is killed; its tasks then stop, as in a killed JVM. */
  private final CountDownLatch killed = new CountDownLatch(1);

  private volatile long killedAt = Long.MAX_VALUE;

  /** Opened at the end of the test: lets the doomed worker's task threads go. */
  private final CountDownLatch released = new CountDownLatch(1);

  private final List<RabbitBroker> ownBrokers = new ArrayList<>();
  private final List<Worker> workers = new ArrayList<>();

  @AfterEach
  void stop() {
    released.countDown();
    workers.forEach(Worker::close);
    ownBrokers.forEach(RabbitBroker::close);
    queue.close();
    List<String> permitQueues = new ArrayList<>();
    for (String customer : CUSTOMERS) {
      String permits = Permits.queue(task, 2, customer);
      permitQueues.add(permits);
      permitQueues.add(permits + Permits.MARKER_SUFFIX);
    }
    RabbitFixture.deleteQueues(permitQueues.toArray(String[]::new));
  }

  @Test
  void aLimitOfTwoPerCustomerIsNeverExceededAndItsPermitsComeBackWhenAWorkerDies()
      throws Exception {
    // The doomed worker takes two at a time: were it to take every task or hold both permits of
    // every customer before the survivor starts, the survivor would have nothing to run.
    Worker doomed = startWorker("doomed", 2, this::blockUntilKilled);
    startWorker("survivor", 8, this::briefly);

    List<String> ids = new ArrayList<>();
    List<CompletableFuture<TaskMessage>> sent = new ArrayList<>();
    for (int i = 0; i < TASKS; i++) {
      TaskMessage message =
          TaskMessage.builder(task)
              .kwargs(Map.of("customer_id", CUSTOMERS.get(i % CUSTOMERS.size())))
              .ignoreResult(true)
              .build();
      ids.add(message.id());
      sent.add(queue.client.send(message, queue.name));
    }
    sent.forEach(CompletableFuture::join);

    Await.until(
        WAIT,
        "the doomed worker holding permits and the survivor running tasks beside it",
        () -> running.keySet().stream().anyMatch(k -> k.startsWith("doomed/")) && runs.size() >= 3);
    long holding = running.keySet().stream().filter(k -> k.startsWith("doomed/")).count();

    // As when its JVM is killed: its tasks stop and its connection goes, nothing is settled.
    killedAt = System.nanoTime();
    killed.countDown();
    ownBrokers.getFirst().close();

    Await.until(
        WAIT,
        "every task finished on the survivor or before the kill",
        () -> finished().containsAll(ids));
    assertTrue(holding >= 1, "the doomed worker held permits when it died");
    Map<String, Integer> most = mostAtOnce();
    most.forEach(
        (customer, count) ->
            assertTrue(count <= 2, customer + " had " + count + " at once: " + runs));
    assertEquals(2, most.values().stream().mapToInt(i -> i).max().orElse(0), "the limit was used");
    assertTrue(
        runs.stream().anyMatch(r -> r.worker().equals("survivor") && r.start() > killedAt),
        "tasks ran on the survivor after the kill");
    for (String customer : CUSTOMERS) {
      String permits = Permits.queue(task, 2, customer);
      Await.until(
          WAIT,
          "both permits of " + customer + " back in " + permits,
          () -> RabbitFixture.messagesReady(permits) == 2);
    }
    assertEquals(0, doomed.stats().succeeded(), "the doomed worker settled nothing");
  }

  private interface Body {
    void run(String worker, String id, String customer) throws InterruptedException;
  }

  private Worker startWorker(String name, int concurrency, Body body) {
    RabbitBroker broker = RabbitFixture.connect("concurrency-" + name);
    ownBrokers.add(broker);
    TaskRegistry tasks =
        TaskRegistry.builder()
            .register(
                task,
                call -> {
                  String customer = call.message().kwargs().get("customer_id").asString();
                  body.run(name, call.id(), customer);
                  return null;
                },
                TaskOptions.DEFAULT.withConcurrency(ConcurrencyLimit.perKey(2, "customer_id")))
            .build();
    Worker worker =
        new Worker(
            broker,
            tasks,
            new WorkerSettings(
                name + "-" + UUID.randomUUID() + "@test",
                List.of(new WorkerSettings.WeightedQueue(queue.name, 1)),
                concurrency,
                1,
                Duration.ofSeconds(1),
                QueueType.QUORUM,
                concurrency,
                WorkerSettings.DEFAULT_RESULT_MAX_BYTES,
                ProcessPoolSettings.DEFAULT));
    worker.start();
    workers.add(worker);
    return worker;
  }

  /** The survivor's task: a short piece of work. */
  private void briefly(String worker, String id, String customer) throws InterruptedException {
    long start = System.nanoTime();
    running.put(worker + "/" + id, start);
    Thread.sleep(100);
    running.remove(worker + "/" + id);
    runs.add(new Run(id, worker, customer, start, System.nanoTime()));
  }

  /** The doomed worker's task: runs until the worker is killed, and ends there. */
  private void blockUntilKilled(String worker, String id, String customer)
      throws InterruptedException {
    long start = System.nanoTime();
    running.put(worker + "/" + id, start);
    killed.await();
    runs.add(new Run(id + "#killed", worker, customer, start, killedAt));
    // A killed JVM settles nothing: hold the thread until the test ends.
    released.await(WAIT.toSeconds(), TimeUnit.SECONDS);
    throw new InterruptedException("killed");
  }

  private Set<String> finished() {
    return runs.stream().map(Run::id).collect(Collectors.toSet());
  }

  /** The most runs of each customer at one instant, from the traces (an end before a start). */
  private Map<String, Integer> mostAtOnce() {
    Map<String, Integer> most = new HashMap<>();
    for (String customer : CUSTOMERS) {
      List<long[]> edges = new ArrayList<>();
      for (Run run : runs) {
        if (run.customer().equals(customer)) {
          edges.add(new long[] {run.start(), 1});
          edges.add(new long[] {run.end(), -1});
        }
      }
      edges.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
      int now = 0;
      int max = 0;
      for (long[] edge : edges) {
        now += (int) edge[1];
        max = Math.max(max, now);
      }
      most.put(customer, max);
    }
    return most;
  }
}
