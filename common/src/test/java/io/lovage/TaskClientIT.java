package io.lovage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** TaskClient against a Lovage worker on a real RabbitMQ: futures, eta and expiry. */
class TaskClientIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final String queue = RabbitFixture.uniqueQueue("client");
  private final RabbitBroker broker = RabbitFixture.connect("TaskClientIT");
  private final AtomicInteger runs = new AtomicInteger();
  private final List<Instant> starts = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register("it.add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
          .register(
              "it.fail",
              call -> {
                throw new IllegalArgumentException("bad " + call.arg(0, "what", String.class));
              })
          .register("it.count", call -> runs.incrementAndGet())
          .register(
              "it.square", call -> call.arg(0, "x", long.class) * call.arg(0, "x", long.class))
          .register(
              "it.flaky",
              call -> {
                starts.add(Instant.now());
                if (call.retries() < 2) {
                  throw new IllegalStateException("attempt " + call.retries());
                }
                return "done";
              },
              TaskOptions.DEFAULT.withRetry(
                  RetryPolicy.on(IllegalStateException.class)
                      .withBackoff(Duration.ofSeconds(1), Duration.ofSeconds(10))
                      .withoutJitter()))
          .build();
  private final Worker worker = new Worker(broker, tasks, WorkerSettings.of(List.of(queue), 4));
  private final TaskClient client = new TaskClient(broker, "TaskClientIT");
  // Only this test's events: a day of a shared broker's event stream takes longer to replay than
  // a transient state such as RETRY lasts.
  private final EventStreamResultStore results =
      new EventStreamResultStore(100_000, Duration.ofMinutes(5), java.time.Clock.systemUTC());

  TaskClientIT() {
    worker.start();
    results.follow(broker);
  }

  @AfterEach
  void stop() {
    client.close();
    worker.close();
    results.close();
    broker.close();
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void futureCompletesWithTheResultAndItsCallbackRunsOnce() throws Exception {
    AtomicInteger callbacks = new AtomicInteger();

    TaskFuture future = client.submit(TaskMessage.builder("it.add").args(20, 22).build(), queue);
    future.addDoneCallback(f -> callbacks.incrementAndGet());

    assertEquals(42L, future.get(WAIT, long.class));
    Await.until(WAIT, "the callback", () -> callbacks.get() == 1);
    assertEquals(1, callbacks.get());
  }

  @Test
  void concurrentFirstSendsToANewQueueAreAllRoutedAfterItIsDeclared() throws Exception {
    String fresh = RabbitFixture.uniqueQueue("fresh");
    try (TaskClient first = new TaskClient(broker, "racing");
        var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<TaskMessage>> sends = new java.util.ArrayList<>();
      for (int i = 0; i < 64; i++) {
        sends.add(
            threads.submit(
                () -> first.send(TaskMessage.builder("it.count").build(), fresh).join()));
      }
      for (var send : sends) {
        send.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
      }
    } finally {
      RabbitFixture.deleteTaskQueue(fresh);
    }
  }

  @Test
  void mapRunsATaskOverItemsAndAllOfGathersTheResultsInOrder() throws Exception {
    List<TaskFuture> futures =
        client.map("it.square", List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), queue);

    List<Long> squares =
        TaskFuture.allOf(futures)
            .get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)
            .stream()
            .map(tools.jackson.databind.JsonNode::asLong)
            .toList();

    assertEquals(List.of(1L, 4L, 9L, 16L, 25L, 36L, 49L, 64L, 81L, 100L), squares);
  }

  @Test
  void futureByIdCompletesFromTheDurableRecordForATaskAnotherClientSent() throws Exception {
    String done = client.send(TaskMessage.builder("it.add").args(1, 1).build(), queue).join().id();
    TaskFuture first = client.submit(TaskMessage.builder("it.add").args(0, 0).build(), queue);
    first.get(WAIT, long.class);

    try (TaskClient other = new TaskClient(broker, "another-process")) {
      String later =
          client.send(TaskMessage.builder("it.add").args(2, 2).build(), queue).join().id();
      String failing =
          client.send(TaskMessage.builder("it.fail").args("x").build(), queue).join().id();

      assertEquals(2L, other.future(done).get(WAIT, long.class), "a task finished before the call");
      assertEquals(
          4L, other.future(later).get(WAIT, long.class), "a task finishing after the call");
      ExecutionException e =
          assertThrows(
              ExecutionException.class, () -> other.future(failing).get(WAIT, Object.class));
      assertEquals("IllegalArgumentException", ((TaskFailedException) e.getCause()).type());
    }
  }

  @Test
  void futureOfAFailingTaskCompletesWithTheRemoteErrorTypeAndMessage() {
    TaskFuture future = client.submit(TaskMessage.builder("it.fail").args("input").build(), queue);

    ExecutionException e =
        assertThrows(ExecutionException.class, () -> future.get(WAIT, Object.class));
    TaskFailedException failure = assertInstanceOf(TaskFailedException.class, e.getCause());
    assertEquals("IllegalArgumentException", failure.type());
    assertEquals("bad input", failure.remoteMessage());
    assertEquals(future.id(), failure.taskId());
    assertTrue(failure.remoteTraceback().contains("IllegalArgumentException: bad input"));
  }

  @Test
  void taskWithAnEtaIsNotStartedEarlyAndIsStartedWithinAboutASecondOfIt() throws Exception {
    Instant eta = Instant.now().plusSeconds(3);

    TaskFuture future = client.submit(TaskMessage.builder("it.count").eta(eta).build(), queue);

    future.get(WAIT, long.class);
    TaskRecord record =
        Await.until(
            WAIT, "the record", () -> results.find(future.id()).filter(r -> r.started() != null));
    assertFalse(
        record.started().isBefore(eta), "started " + record.started() + " before eta " + eta);
    assertTrue(
        record.started().isBefore(eta.plusMillis(1_500)),
        "started " + record.started() + ", more than 1.5 s after eta " + eta);
  }

  @Test
  void etaTaskSentStraightToTheQueueIsPostponedByTheWorkerNotHeld() throws Exception {
    Instant eta = Instant.now().plusSeconds(3);
    // As a Celery 5.2 client sends it: to the task queue, eta in a header.
    TaskMessage message = TaskMessage.builder("it.count").eta(eta).replyTo(null).build();
    broker
        .publish(
            io.lovage.broker.LovageTopology.TASK_EXCHANGE,
            queue,
            io.lovage.protocol.TaskMessageCodec.encode(message))
        .join();
    Instant forwarded = Instant.now().plusMillis(500);
    AtomicInteger heldWhileWaiting = new AtomicInteger();
    Await.until(
        WAIT,
        "the eta to come near",
        () -> {
          Instant now = Instant.now();
          if (now.isAfter(forwarded) && worker.stats().active() > 0) {
            heldWhileWaiting.incrementAndGet();
          }
          return now.isAfter(eta.minusMillis(300));
        });
    assertEquals(0, heldWhileWaiting.get(), "the worker held the waiting task unacknowledged");

    TaskRecord record =
        Await.until(
            WAIT,
            "the task to succeed",
            () -> results.find(message.id()).filter(r -> r.state() == TaskState.SUCCESS));
    assertFalse(
        record.started().isBefore(eta), "started " + record.started() + " before eta " + eta);
    assertEquals(1, runs.get());
  }

  @Test
  void retriesWaitTheExponentialBackoffInTheBrokerAndShowStateRetry() throws Exception {
    TaskFuture future = client.submit(TaskMessage.builder("it.flaky").build(), queue);

    Await.until(
        WAIT,
        "state RETRY",
        () -> results.find(future.id()).filter(r -> r.state() == TaskState.RETRY));
    assertEquals("done", future.get(WAIT, String.class));

    assertEquals(3, starts.size());
    long first = Duration.between(starts.get(0), starts.get(1)).toMillis();
    long second = Duration.between(starts.get(1), starts.get(2)).toMillis();
    assertTrue(first >= 1_000 && first < 2_500, "first retry after " + first + " ms, backoff 1 s");
    assertTrue(
        second >= 2_000 && second < 3_500, "second retry after " + second + " ms, backoff 2 s");
    TaskRecord record =
        Await.until(
            WAIT,
            "SUCCESS",
            () -> results.find(future.id()).filter(r -> r.state() == TaskState.SUCCESS));
    assertEquals(2, record.retries());
  }

  @Test
  void expiredTaskIsRevokedAndNeverRuns() {
    TaskMessage message =
        TaskMessage.builder("it.count").expires(Instant.now().minusSeconds(1)).build();

    client.send(message, queue).join();

    TaskRecord record =
        Await.until(
            WAIT,
            "the task to be revoked",
            () -> results.find(message.id()).filter(r -> r.state() == TaskState.REVOKED));
    assertEquals("Revoked", record.error().type());
    assertEquals(0, runs.get());
  }

  @Test
  void unknownKwargsAreIgnoredButMissingOnesFailTheFuture() {
    TaskFuture future =
        client.submit(TaskMessage.builder("it.add").kwargs(Map.of("x", 1)).build(), queue);

    ExecutionException e =
        assertThrows(ExecutionException.class, () -> future.get(WAIT, Object.class));
    assertEquals("TaskArgumentException", ((TaskFailedException) e.getCause()).type());
  }
}
