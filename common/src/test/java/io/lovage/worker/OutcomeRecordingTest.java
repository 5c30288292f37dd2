package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.Broker;
import io.lovage.broker.BrokerException;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.testing.Await;
import io.lovage.testing.ForwardingBroker;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A task is done only once its outcome is recorded: a worker whose outcome event the broker did not
 * confirm (a restart, a cut) tries again, and never acknowledges a task whose outcome is lost.
 */
class OutcomeRecordingTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String QUEUE = "celery";

  private final InMemoryBroker memory = new InMemoryBroker();
  private final RefusingOutcomes broker = new RefusingOutcomes(memory);
  private final AtomicInteger runs = new AtomicInteger();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register("add", call -> runs.incrementAndGet() + call.arg(0, "x", long.class))
          .build();
  private final Worker worker = new Worker(broker, tasks, WorkerSettings.of(List.of(QUEUE), 2));
  private final TaskClient client = new TaskClient(memory, "test");
  private final EventStreamResultStore results = new EventStreamResultStore(1000);

  OutcomeRecordingTest() {
    worker.start();
    results.follow(memory);
  }

  @AfterEach
  void stop() {
    worker.close();
    memory.close();
  }

  @Test
  void anOutcomeTheBrokerDidNotConfirmIsSentAgainAndTheTaskAcknowledgedOnceItIsRecorded() {
    broker.refuse(2);

    TaskMessage sent = client.send(TaskMessage.builder("add").args(1).build()).join();

    Await.until(
        WAIT,
        "SUCCESS recorded",
        () -> results.find(sent.id()).filter(r -> r.state() == TaskState.SUCCESS).isPresent());
    Await.until(WAIT, "message acknowledged", () -> memory.unacked(QUEUE) == 0);
    assertEquals(0, memory.ready(QUEUE));
    assertEquals(1, runs.get(), "ran once: the outcome was sent again, not the task run again");
    assertEquals(3, broker.outcomeTries.get());
  }

  @Test
  void aTaskWhoseOutcomeIsNotRecordedGoesBackToItsQueueInsteadOfBeingAcknowledged() {
    broker.refuse(Integer.MAX_VALUE);

    client.send(TaskMessage.builder("add").args(1).build()).join();
    Await.until(
        WAIT, "the task ran and its outcome was refused", () -> broker.outcomeTries.get() > 0);
    worker.close();

    assertEquals(1, runs.get());
    assertEquals(0, memory.unacked(QUEUE));
    assertEquals(1, memory.ready(QUEUE), "requeued, not acknowledged");
    assertTrue(broker.outcomeTries.get() <= Worker.RECORD_RETRY_DELAYS.size() + 1);
  }

  /**
   * The in-memory broker, except that it refuses the next n outcome events as a lost connection.
   */
  private static final class RefusingOutcomes extends ForwardingBroker {
    private final AtomicInteger refusals = new AtomicInteger();
    final AtomicInteger outcomeTries = new AtomicInteger();

    RefusingOutcomes(Broker inner) {
      super(inner);
    }

    void refuse(int n) {
      refusals.set(n);
    }

    @Override
    public CompletableFuture<Void> publish(String exchange, String routingKey, Message message) {
      if (exchange.equals(LovageTopology.EVENT_EXCHANGE)
          && routingKey.matches("task\\.(succeeded|failed|retried|multi)")) {
        outcomeTries.incrementAndGet();
        if (refusals.getAndDecrement() > 0) {
          return CompletableFuture.failedFuture(
              new BrokerException("connection is already closed"));
        }
      }
      return inner.publish(exchange, routingKey, message);
    }
  }
}
