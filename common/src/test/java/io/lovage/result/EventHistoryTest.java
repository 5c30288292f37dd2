package io.lovage.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskState;
import io.lovage.broker.Broker;
import io.lovage.broker.BrokerException;
import io.lovage.broker.CatchUpMarker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.Subscription;
import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.ForwardingBroker;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A result store that starts reads the event history first: until it has, a task it does not find
 * may only not have been read yet, and it says so.
 */
class EventHistoryTest {
  private final InMemoryBroker broker = new InMemoryBroker();
  private final EventStreamResultStore store =
      new EventStreamResultStore(100, Duration.ofHours(1), Clock.systemUTC());

  EventHistoryTest() {
    broker.declare(LovageTopology.events());
  }

  @AfterEach
  void close() {
    store.close();
    broker.close();
  }

  @Test
  void aStoreThatHasNotReadTheHistoryYetSaysSoAndKnowsItsTasksOnceItHas() {
    sent("earlier");
    SlowReader slow = new SlowReader(broker);

    store.follow(slow);
    Await.until(Duration.ofSeconds(10), "the event and the marker read", () -> slow.held() == 2);

    assertFalse(store.caughtUp(), "history still being read");
    assertTrue(store.find("earlier").isEmpty());
    slow.release();
    Await.until(Duration.ofSeconds(10), "the history read", store::caughtUp);
    assertEquals(TaskState.PENDING, store.find("earlier").orElseThrow().state());
  }

  @Test
  void anotherReadersMarkerIsNeitherATaskNorTheEndOfThisReadersHistory() {
    CatchUpMarker other = new CatchUpMarker();
    other.append(broker, LovageTopology.EVENT_STREAM).join();
    SlowReader slow = new SlowReader(broker);
    store.follow(slow);
    Await.until(Duration.ofSeconds(10), "both markers read", () -> slow.held() == 2);

    slow.releaseOne();

    assertFalse(store.caughtUp(), "read another reader's marker, not its own");
    slow.release();
    Await.until(Duration.ofSeconds(10), "the history read", store::caughtUp);
    assertFalse(other.caughtUp(), "this reader's marker is not the other's");
  }

  @Test
  void aStoreThatCannotMarkTheEndOfTheHistoryAnswersAsCaughtUpRatherThanNever() {
    Broker refusing =
        new SlowReader(broker) {
          @Override
          public CompletableFuture<Void> publish(String exchange, String key, Message message) {
            return CompletableFuture.failedFuture(new BrokerException("connection is closed"));
          }
        };

    store.follow(refusing);

    Await.until(Duration.ofSeconds(10), "caught up without a marker", store::caughtUp);
  }

  private void sent(String id) {
    byte[] event =
        Json.MAPPER.writeValueAsBytes(
            Map.of(
                "type",
                "task-sent",
                "uuid",
                id,
                "name",
                "demo.noop",
                "timestamp",
                System.currentTimeMillis() / 1000.0));
    broker
        .publish(LovageTopology.EVENT_EXCHANGE, "task.sent", Message.json(event, Map.of()))
        .join();
  }

  /** Holds back what the store reads until the test lets it through, as a long history would. */
  private static class SlowReader extends ForwardingBroker {
    private final List<Runnable> held = new ArrayList<>();
    private boolean flowing;

    SlowReader(Broker inner) {
      super(inner);
    }

    synchronized void release() {
      flowing = true;
      held.forEach(Runnable::run);
      held.clear();
    }

    synchronized int held() {
      return held.size();
    }

    synchronized void releaseOne() {
      held.remove(0).run();
    }

    private synchronized void deliver(Consumer<Delivery> handler, Delivery delivery) {
      if (flowing) {
        handler.accept(delivery);
      } else {
        held.add(() -> handler.accept(delivery));
      }
    }

    @Override
    public Subscription consume(String queue, ConsumeOptions options, Consumer<Delivery> handler) {
      return inner.consume(queue, options, delivery -> deliver(handler, delivery));
    }
  }
}
