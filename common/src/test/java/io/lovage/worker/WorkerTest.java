package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.RetryPolicy;
import io.lovage.TaskClient;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The worker's contract, on the in-memory broker; WorkerIT proves the same on RabbitMQ. */
class WorkerTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String QUEUE = "celery";

  private final CountDownLatch release = new CountDownLatch(1);
  private final java.util.concurrent.atomic.AtomicInteger attempts =
      new java.util.concurrent.atomic.AtomicInteger();
  private final InMemoryBroker broker = new InMemoryBroker();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register("add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
          .register(
              "fail",
              call -> {
                throw new IllegalStateException(call.arg(0, "message", String.class));
              })
          .register("wait", call -> release.await(10, TimeUnit.SECONDS))
          .register("huge", call -> "x".repeat(WorkerSettings.DEFAULT_RESULT_MAX_BYTES + 1))
          .register(
              "flaky",
              call -> {
                if (attempts.incrementAndGet() < 3) {
                  throw new java.io.UncheckedIOException(new java.io.IOException("try again"));
                }
                return "ok after " + attempts.get();
              },
              TaskOptions.DEFAULT.withRetry(
                  RetryPolicy.on(java.io.UncheckedIOException.class)
                      .withBackoff(Duration.ZERO, Duration.ZERO)))
          .register(
              "self-retrying",
              call -> {
                if (call.retries() == 0) {
                  throw call.retry(new IllegalStateException("not yet"), Duration.ZERO);
                }
                return call.retries();
              })
          .register(
              "always-flaky",
              call -> {
                attempts.incrementAndGet();
                throw new java.io.UncheckedIOException(new java.io.IOException("down"));
              },
              TaskOptions.DEFAULT.withRetry(
                  RetryPolicy.on(java.io.UncheckedIOException.class)
                      .withMaxRetries(2)
                      .withBackoff(Duration.ZERO, Duration.ZERO)))
          .build();
  private final Worker worker = new Worker(broker, tasks, WorkerSettings.of(List.of(QUEUE), 4));
  private final TaskClient client = new TaskClient(broker, "test");
  private final EventStreamResultStore results = new EventStreamResultStore(1000);

  WorkerTest() {
    worker.start();
    results.follow(broker);
  }

  @AfterEach
  void stop() {
    release.countDown();
    worker.close();
    broker.close();
  }

  @Test
  void aWorkerIsConsumingOnlyBetweenItsStartAndItsClose() {
    Worker other = new Worker(broker, tasks, WorkerSettings.of(List.of(QUEUE), 1));
    assertFalse(other.isConsuming(), "not started");

    other.start();
    assertTrue(other.isConsuming());

    other.close();
    assertFalse(other.isConsuming(), "closed");
  }

  @Test
  void aConcurrencyLimitFromTheSettingsHoldsTheOthersUnacknowledgedUntilThePermitComesBack() {
    worker.close();
    Worker limited =
        new Worker(
            broker,
            tasks,
            WorkerSettings.of(List.of(QUEUE), 4)
                .withConcurrencyLimits(Map.of("wait", io.lovage.ConcurrencyLimit.of(1))));
    limited.start();
    try {
      List<TaskMessage> sent = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        sent.add(client.send(TaskMessage.builder("wait").build()).join());
      }

      Await.until(
          WAIT,
          "one running, two waiting for the permit",
          () -> limited.stats().active() == 1 && limited.stats().concurrencyLimited() == 2);
      assertEquals(0, broker.ready("lovage.permits.wait.n1"), "its one permit is taken");
      release.countDown();

      sent.forEach(message -> awaitState(message.id(), TaskState.SUCCESS));
      Await.until(WAIT, "the permit back", () -> broker.ready("lovage.permits.wait.n1") == 1);
    } finally {
      limited.close();
    }
  }

  @Test
  void taskRunsAndItsResultIsRecordedAsSuccess() {
    TaskMessage sent = client.send(TaskMessage.builder("add").args(2, 3).build()).join();

    TaskRecord record = awaitState(sent.id(), TaskState.SUCCESS);

    assertEquals(5, record.result().asInt());
    assertEquals("add", record.task());
    assertEquals(worker.settings().name(), record.worker());
    Await.until(WAIT, "message acknowledged", () -> broker.unacked(QUEUE) == 0);
    assertEquals(0, broker.ready(QUEUE));
  }

  @Test
  void aTaskThatIgnoresItsResultRunsAndIsAcknowledgedWithoutAnyEvent() {
    TaskMessage ignored =
        client.send(TaskMessage.builder("add").args(1, 1).ignoreResult(true).build()).join();
    TaskMessage recorded = client.send(TaskMessage.builder("add").args(2, 2).build()).join();

    awaitState(recorded.id(), TaskState.SUCCESS);
    Await.until(WAIT, "both acknowledged", () -> broker.unacked(QUEUE) + broker.ready(QUEUE) == 0);

    assertTrue(results.find(ignored.id()).isEmpty(), "no state kept, not even PENDING");
    assertEquals(2, worker.stats().succeeded());
  }

  @Test
  void aShortTaskSendsOneOutcomeEventThatSaysWhenItWasReceivedAndStarted() {
    TaskMessage sent = client.send(TaskMessage.builder("add").args(2, 3).build()).join();

    TaskRecord record = awaitState(sent.id(), TaskState.SUCCESS);

    // The client's task-sent may land before or after: it is sent once the task is confirmed.
    assertEquals(List.of("task-succeeded"), workerEventTypes(sent.id()));
    assertTrue(record.received() != null && record.started() != null, record.toString());
    assertFalse(record.started().isBefore(record.received()), record.toString());
    assertFalse(record.finished().isBefore(record.started()), record.toString());
    assertEquals(QUEUE, record.queue());
  }

  @Test
  void aLongTaskShowsStartedWhileItRunsStampedWhenItStarted() {
    TaskMessage sent = client.send(TaskMessage.builder("wait").build()).join();

    TaskRecord running = awaitState(sent.id(), TaskState.STARTED);
    release.countDown();
    TaskRecord done = awaitState(sent.id(), TaskState.SUCCESS);

    assertEquals(
        List.of("task-received", "task-started", "task-succeeded"), workerEventTypes(sent.id()));
    assertEquals(running.started(), done.started());
    assertTrue(
        Duration.between(running.started(), done.finished()).compareTo(Worker.START_EVENTS_AFTER)
            >= 0,
        "started is when the task started, not when the event was sent: " + done);
  }

  /** The types of the worker's events of a task in the stream, batches unpacked, in order. */
  private List<String> workerEventTypes(String id) {
    List<String> types = new java.util.ArrayList<>();
    for (Message m : broker.messages(LovageTopology.EVENT_STREAM)) {
      tools.jackson.databind.JsonNode body = io.lovage.protocol.Json.MAPPER.readTree(m.body());
      for (tools.jackson.databind.JsonNode e : body.isArray() ? body.values() : List.of(body)) {
        if (id.equals(e.path("uuid").asString(null))
            && !e.path("type").asString().equals("task-sent")) {
          types.add(e.path("type").asString());
        }
      }
    }
    return types;
  }

  @Test
  void aTaskThatIgnoresItsResultStillHasItsFailureRecordedUnderItsName() {
    TaskMessage sent =
        client.send(TaskMessage.builder("fail").args("broken").ignoreResult(true).build()).join();

    TaskRecord record = awaitState(sent.id(), TaskState.FAILURE);

    assertEquals("fail", record.task());
    assertEquals(QUEUE, record.queue());
    assertEquals("broken", record.error().message());
  }

  @Test
  void keywordArgumentsBindByName() {
    TaskMessage sent =
        client.send(TaskMessage.builder("add").kwargs(Map.of("x", 40, "y", 2)).build()).join();

    assertEquals(42, awaitState(sent.id(), TaskState.SUCCESS).result().asInt());
  }

  @Test
  void failingTaskIsRecordedAsFailureWithItsError() {
    TaskMessage sent = client.send(TaskMessage.builder("fail").args("boom").build()).join();

    TaskRecord record = awaitState(sent.id(), TaskState.FAILURE);

    assertEquals("IllegalStateException", record.error().type());
    assertEquals("boom", record.error().message());
    assertTrue(record.error().traceback().contains("IllegalStateException: boom"));
    Await.until(WAIT, "failed task acknowledged", () -> broker.unacked(QUEUE) == 0);
  }

  @Test
  void taskThatFailsForGoodGoesToTheDeadLetterQueueWithItsError() {
    TaskMessage sent = client.send(TaskMessage.builder("fail").args("boom").build()).join();
    awaitState(sent.id(), TaskState.FAILURE);

    Message dead = awaitDeadLetter();

    assertEquals("task failed: IllegalStateException: boom", dead.headers().get("x-lovage-reason"));
    assertEquals("IllegalStateException", dead.headers().get("x-lovage-exception-type"));
    assertEquals("boom", dead.headers().get("x-lovage-exception-message"));
    assertTrue(
        dead.headers().get("x-lovage-traceback").toString().contains("IllegalStateException"));
    assertEquals(1L, dead.headers().get("x-lovage-attempts"));
    assertEquals(QUEUE, dead.headers().get("x-lovage-original-queue"));
    assertEquals(sent.id(), dead.headers().get("id"));
  }

  @Test
  void taskRetriesAutomaticallyOnTheDeclaredExceptionUntilItSucceeds() {
    TaskMessage sent = client.send(TaskMessage.builder("flaky").build()).join();

    TaskRecord record = awaitState(sent.id(), TaskState.SUCCESS);

    assertEquals("ok after 3", record.result().asString());
    assertEquals(2, record.retries());
  }

  @Test
  void resultAboveTheSizeLimitMakesTheTaskAFailureThatSaysSo() {
    TaskMessage sent = client.send(TaskMessage.builder("huge").build()).join();

    TaskRecord record = awaitState(sent.id(), TaskState.FAILURE);

    assertEquals("ResultTooLarge", record.error().type());
    assertTrue(record.error().message().contains("above the limit"), record.error().message());
  }

  @Test
  void taskCanRetryItself() {
    TaskMessage sent = client.send(TaskMessage.builder("self-retrying").build()).join();

    assertEquals(1, awaitState(sent.id(), TaskState.SUCCESS).result().asInt());
  }

  @Test
  void retriesStopAtMaxRetriesAndTheTaskFailsIntoTheDeadLetterQueue() {
    TaskMessage sent = client.send(TaskMessage.builder("always-flaky").build()).join();

    TaskRecord record = awaitState(sent.id(), TaskState.FAILURE);

    assertEquals(3, attempts.get(), "one run and two retries");
    assertEquals(2, record.retries());
    assertEquals(3L, awaitDeadLetter().headers().get("x-lovage-attempts"));
  }

  @Test
  void maxRetriesHeaderOverridesTheTaskForOneMessage() {
    TaskMessage sent =
        client.send(TaskMessage.builder("always-flaky").header("max_retries", 0).build()).join();

    awaitState(sent.id(), TaskState.FAILURE);

    assertEquals(1, attempts.get());
  }

  @Test
  void missingArgumentIsAFailureNamingTheArgument() {
    TaskMessage sent = client.send(TaskMessage.builder("add").args(1).build()).join();

    TaskRecord record = awaitState(sent.id(), TaskState.FAILURE);

    assertEquals("TaskArgumentException", record.error().type());
    assertTrue(record.error().message().contains("'y'"), record.error().message());
  }

  @Test
  void messageIsAcknowledgedOnlyAfterItsTaskFinished() {
    TaskMessage sent = client.send(TaskMessage.builder("wait").build()).join();
    awaitState(sent.id(), TaskState.STARTED);

    assertEquals(1, broker.unacked(QUEUE), "unacknowledged while the task runs");

    release.countDown();
    awaitState(sent.id(), TaskState.SUCCESS);
    Await.until(WAIT, "acknowledged after the task finished", () -> broker.unacked(QUEUE) == 0);
  }

  @Test
  void malformedMessageGoesToTheDeadLetterQueueWithTheReason() {
    broker.publish(
        LovageTopology.TASK_EXCHANGE,
        QUEUE,
        Message.json(
            "not json".getBytes(StandardCharsets.UTF_8), Map.of("task", "add", "id", "x1")));

    Message dead =
        Await.until(
            WAIT,
            "a dead letter",
            () -> broker.messages(LovageTopology.deadLetterQueue(QUEUE)).stream().findFirst());

    assertTrue(
        dead.headers().get("x-lovage-reason").toString().startsWith("body is not valid JSON"),
        dead.headers().toString());
    assertEquals(QUEUE, dead.headers().get("x-lovage-original-queue"));
    Await.until(WAIT, "original acknowledged", () -> broker.unacked(QUEUE) == 0);
    assertEquals(0, broker.ready(QUEUE));
  }

  @Test
  void unknownTaskIsRejectedToTheDeadLetterQueueAndRecordedAsRejected() {
    TaskMessage sent = client.send(TaskMessage.builder("no.such.task").build()).join();

    TaskRecord record = awaitState(sent.id(), TaskState.REJECTED);

    assertEquals("unknown task 'no.such.task'", record.error().message());
    Await.until(
        WAIT,
        "a dead letter",
        () -> broker.messages(LovageTopology.deadLetterQueue(QUEUE)).size() == 1);
  }

  @Test
  void workerGoesOnAfterBadMessages() {
    broker.publish(
        LovageTopology.TASK_EXCHANGE,
        QUEUE,
        new Message(
            new byte[] {1, 2},
            Map.of(),
            "application/x-python-serialize",
            null,
            null,
            null,
            null,
            true));
    TaskMessage sent = client.send(TaskMessage.builder("add").args(1, 1).build()).join();

    assertEquals(2, awaitState(sent.id(), TaskState.SUCCESS).result().asInt());
  }

  private Message awaitDeadLetter() {
    return Await.until(
        WAIT,
        "a dead letter",
        () -> broker.messages(LovageTopology.deadLetterQueue(QUEUE)).stream().findFirst());
  }

  @Test
  void aRevokedTaskAnswersItsReplyToWithRevokedSoItsFutureFailsAtOnce() {
    TaskMessage task = TaskMessage.builder("add").args(1, 2).build();
    client.revoke(task.id(), false).join();
    awaitState(task.id(), TaskState.REVOKED);

    io.lovage.TaskFuture future = client.submit(task, QUEUE);

    java.util.concurrent.ExecutionException failed =
        org.junit.jupiter.api.Assertions.assertThrows(
            java.util.concurrent.ExecutionException.class,
            () -> future.get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
    assertEquals("TaskRevokedError", ((io.lovage.TaskFailedException) failed.getCause()).type());
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in state " + state,
        () -> results.find(id).filter(r -> r.state() == state));
  }
}
