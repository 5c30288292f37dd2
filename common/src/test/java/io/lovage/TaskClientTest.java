package io.lovage;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.ForwardingBroker;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class TaskClientTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  @Test
  void closingWaitsForTheTaskSentEventsOfTasksAlreadySentToBeConfirmed() throws Exception {
    HeldEvents broker = new HeldEvents();
    TaskClient client =
        new TaskClient(broker, "test-producer", QueueType.CLASSIC, Clock.systemUTC());
    client.send(TaskMessage.builder("demo.noop").build(), "celery").join();
    Await.until(WAIT, "the task-sent event to be published", () -> broker.events.size() == 1);

    Thread closing = Thread.ofVirtual().start(client::close);
    closing.join(Duration.ofMillis(200));
    assertTrue(closing.isAlive(), "close returned while the event was unconfirmed");

    broker.events.get(0).complete(null);
    assertTrue(closing.join(WAIT), "close returned once the event was confirmed");
  }

  /** Confirms task messages at once and task events only when the test says so. */
  private static final class HeldEvents extends ForwardingBroker {
    final List<CompletableFuture<Void>> events = new CopyOnWriteArrayList<>();

    HeldEvents() {
      super(new InMemoryBroker());
    }

    @Override
    public CompletableFuture<Void> publish(String exchange, String routingKey, Message message) {
      if (!exchange.equals(LovageTopology.EVENT_EXCHANGE)) {
        return super.publish(exchange, routingKey, message);
      }
      CompletableFuture<Void> confirm = new CompletableFuture<>();
      events.add(confirm);
      return confirm;
    }
  }
}
