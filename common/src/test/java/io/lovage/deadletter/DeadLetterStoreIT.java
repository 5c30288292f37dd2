package io.lovage.deadletter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Dead letters on a real RabbitMQ: listed with their reason, replayed, deleted. */
class DeadLetterStoreIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final LiveQueue queue = new LiveQueue("dead");
  private final RabbitBroker broker = queue.broker;
  private final AtomicBoolean broken = new AtomicBoolean(true);
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register(
              "it.fragile",
              call -> {
                if (broken.get()) {
                  throw new IllegalStateException("dependency down");
                }
                return "fixed";
              })
          .build();
  private final DeadLetterStore deadLetters =
      new DeadLetterStore(broker, "test", Clock.systemUTC());

  DeadLetterStoreIT() {
    queue.startWorker(tasks, 2);
  }

  @AfterEach
  void stop() {
    queue.close();
  }

  @Test
  void failedTaskIsListedWithItsReasonAndReplayRunsItAgainUnderTheSameId() {
    String id =
        queue.client.send(TaskMessage.builder("it.fragile").build(), queue.name).join().id();
    awaitState(id, TaskState.FAILURE);

    DeadLetter dead =
        Await.until(
            WAIT,
            "a dead letter",
            () -> deadLetters.list(queue.name, 0, 10).deadLetters().stream().findFirst());
    assertEquals(id, dead.taskId());
    assertEquals("it.fragile", dead.task());
    assertEquals("IllegalStateException", dead.exceptionType());
    assertEquals("dependency down", dead.exceptionMessage());
    assertEquals("task failed: IllegalStateException: dependency down", dead.reason());
    assertEquals(1, dead.attempts());
    assertTrue(dead.traceback().contains("dependency down"));

    broken.set(false);
    deadLetters.replay(dead.id());

    assertEquals("fixed", awaitState(id, TaskState.SUCCESS).result().asString());
    assertEquals(
        List.of(),
        deadLetters.list(queue.name, 0, 10).deadLetters(),
        "a replayed dead letter is gone");
    assertThrows(DeadLetterStore.NotFoundException.class, () -> deadLetters.replay(dead.id()));
  }

  @Test
  void deletedDeadLetterIsGoneAndTheOthersStay() {
    for (String body : List.of("first", "second", "third")) {
      broker
          .publish(
              LovageTopology.TASK_EXCHANGE,
              queue.name,
              Message.json(body.getBytes(StandardCharsets.UTF_8), Map.of()))
          .join();
    }
    List<DeadLetter> all =
        Await.until(
            WAIT,
            "three dead letters",
            () -> {
              List<DeadLetter> found = deadLetters.list(queue.name, 0, 10).deadLetters();
              return found.size() == 3 ? java.util.Optional.of(found) : java.util.Optional.empty();
            });
    assertTrue(all.get(0).reason().startsWith("body is not valid JSON"), all.get(0).reason());
    assertNull(all.get(0).taskId());

    deadLetters.delete(all.get(1).id());

    assertEquals(
        List.of(all.get(0).id(), all.get(2).id()),
        deadLetters.list(queue.name, 0, 10).deadLetters().stream().map(DeadLetter::id).toList());
    DeadLetterStore.Page first = deadLetters.list(queue.name, 0, 1);
    assertEquals(1, first.deadLetters().size());
    assertEquals(
        List.of(all.get(2).id()),
        deadLetters.list(queue.name, first.next(), 1).deadLetters().stream()
            .map(DeadLetter::id)
            .toList());
    assertThrows(
        DeadLetterStore.NotFoundException.class, () -> deadLetters.delete(all.get(1).id()));
    assertThrows(DeadLetterStore.NotFoundException.class, () -> deadLetters.delete("nonsense"));
  }

  @Test
  void unknownTaskGoesToTheDeadLetterQueueOnItsFirstDelivery() {
    String id =
        queue.client.send(TaskMessage.builder("it.no-such-task").build(), queue.name).join().id();

    DeadLetter dead =
        Await.until(
            WAIT,
            "a dead letter",
            () -> deadLetters.list(queue.name, 0, 10).deadLetters().stream().findFirst());

    assertEquals(id, dead.taskId());
    assertEquals("unknown task 'it.no-such-task'", dead.reason());
    assertEquals(1, dead.attempts());
    assertEquals(TaskState.REJECTED, awaitState(id, TaskState.REJECTED).state());
  }

  @Test
  void messageRabbitMqDeadLettersIsMovedIntoTheDeadLetterQueueWithRabbitMqsReason() {
    Map<String, Object> death =
        Map.of("reason", "delivery_limit", "queue", queue.name, "count", 10L, "exchange", "celery");
    Map<String, Object> headers =
        Map.of("task", "it.fragile", "id", "t-1", "x-death", List.of(death));
    // As RabbitMQ dead-letters a message of the task queue: to its dead-letter exchange.
    broker
        .publish(
            LovageTopology.DEAD_LETTER_EXCHANGE,
            queue.name,
            Message.json("[[], {}, {}]".getBytes(StandardCharsets.UTF_8), headers))
        .join();

    DeadLetter dead =
        Await.until(
            WAIT,
            "the moved dead letter",
            () -> deadLetters.list(queue.name, 0, 10).deadLetters().stream().findFirst());

    assertEquals("t-1", dead.taskId());
    assertTrue(dead.reason().contains("delivery_limit"), dead.reason());
  }

  private io.lovage.result.TaskRecord awaitState(String id, TaskState state) {
    return queue.awaitState(id, state);
  }
}
