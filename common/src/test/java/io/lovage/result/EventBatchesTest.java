package io.lovage.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.broker.Broker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.Message;
import io.lovage.broker.PublishException;
import io.lovage.broker.Subscription;
import io.lovage.broker.Topology;
import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class EventBatchesTest {
  private static final Duration WAIT = Duration.ofSeconds(5);

  private final HeldConfirms broker = new HeldConfirms();
  private final EventBatches batches = new EventBatches(broker, Map.of("hostname", "w1"));

  @Test
  void aLoneEventGoesOutAsItselfWithItsOwnRoutingKey() {
    CompletableFuture<Void> confirmed = batches.publish("task.sent", event(1));

    assertEquals(1, broker.published.size());
    assertEquals("task.sent", broker.published.get(0).routingKey);
    assertEquals("{\"n\":1}", broker.published.get(0).body());
    broker.confirmNext();
    confirmed.join();
  }

  @Test
  void eventsPublishedWhileOneAwaitsItsConfirmGoOutTogetherAsACeleryBatch() {
    CompletableFuture<Void> first = batches.publish("task.received", event(1));
    List<CompletableFuture<Void>> waiting = new ArrayList<>();
    for (int n = 2; n <= 4; n++) {
      waiting.add(batches.publish("task.succeeded", event(n)));
    }
    assertEquals(1, broker.published.size(), "one publish in flight at a time");

    broker.confirmNext();
    first.join();
    Await.until(WAIT, "the batch to be published", () -> broker.published.size() == 2);

    Publish batch = broker.published.get(1);
    assertEquals(EventBatches.BATCH_ROUTING_KEY, batch.routingKey);
    assertEquals("[{\"n\":2},{\"n\":3},{\"n\":4}]", batch.body());
    assertEquals("w1", batch.message.headers().get("hostname"));
    assertTrue(Json.MAPPER.readTree(batch.message.body()).isArray());
    assertFalse(waiting.get(0).isDone(), "an event is confirmed only with its message");

    broker.confirmNext();
    waiting.forEach(CompletableFuture::join);
  }

  @Test
  void aRefusedBatchFailsEveryEventInItAndTheNextBatchStillGoesOut() {
    batches.publish("task.received", event(1));
    CompletableFuture<Void> second = batches.publish("task.started", event(2));
    CompletableFuture<Void> third = batches.publish("task.succeeded", event(3));

    broker.confirmNext();
    Await.until(WAIT, "the batch to be published", () -> broker.published.size() == 2);
    broker.refuseNext();
    Await.until(WAIT, "the batch's events to fail", () -> second.isCompletedExceptionally());
    assertTrue(third.isCompletedExceptionally());

    CompletableFuture<Void> fourth = batches.publish("task.sent", event(4));
    Await.until(WAIT, "the next event to be published", () -> broker.published.size() == 3);
    broker.confirmNext();
    fourth.join();
  }

  @Test
  void settledCompletesOnlyOnceEveryEventPublishedBeforeIsConfirmedOrFailed() {
    batches.publish("task.received", event(1));
    batches.publish("task.started", event(2));
    batches.publish("task.succeeded", event(3));
    CompletableFuture<Void> settled = batches.settled();

    broker.confirmNext();
    Await.until(WAIT, "the batch to be published", () -> broker.published.size() == 2);
    assertFalse(settled.isDone(), "events 2 and 3 still wait for their confirm");
    broker.refuseNext();

    settled.join();
    assertFalse(settled.isCompletedExceptionally(), "a failed event settles too");
    assertTrue(new EventBatches(broker, Map.of()).settled().isDone(), "nothing to wait for");
  }

  @Test
  void withASpacingTheNextBatchGoesOutNoSoonerThanThatAfterThePrevious() {
    Duration spacing = Duration.ofMillis(200);
    EventBatches spaced = new EventBatches(broker, Map.of(), spacing);
    spaced.publish("task.sent", event(1));
    assertEquals(1, broker.published.size(), "the first event goes out at once");
    spaced.publish("task.sent", event(2));
    spaced.publish("task.sent", event(3));

    broker.confirmNext();
    Await.until(WAIT, "the batch to be published", () -> broker.published.size() == 2);

    assertEquals("[{\"n\":2},{\"n\":3}]", broker.published.get(1).body());
    assertTrue(gap(0, 1).compareTo(spacing) >= 0, "published " + gap(0, 1) + " after the first");
  }

  @Test
  void aBatchCutShortByItsLimitIsFollowedAtOnceWhateverTheSpacing() {
    Duration spacing = Duration.ofMillis(500);
    EventBatches spaced = new EventBatches(broker, Map.of(), spacing);
    spaced.publish("task.sent", event(0));
    for (int n = 1; n <= EventBatches.MAX_EVENTS + 1; n++) {
      spaced.publish("task.sent", event(n));
    }
    broker.confirmNext();
    Await.until(WAIT, "a full batch to be published", () -> broker.published.size() == 2);

    broker.confirmNext();
    Await.until(WAIT, "the rest to be published", () -> broker.published.size() == 3);

    assertTrue(gap(1, 2).compareTo(spacing) < 0, "published " + gap(1, 2) + " after the full one");
    assertEquals("{\"n\":1001}", broker.published.get(2).body(), "the one left over");
  }

  private Duration gap(int earlier, int later) {
    return Duration.ofNanos(broker.published.get(later).at - broker.published.get(earlier).at);
  }

  private static byte[] event(int n) {
    return ("{\"n\":" + n + "}").getBytes(StandardCharsets.UTF_8);
  }

  private record Publish(
      String routingKey, Message message, CompletableFuture<Void> confirm, long at) {
    String body() {
      return new String(message.body(), StandardCharsets.UTF_8);
    }
  }

  /** A broker whose confirms come only when the test says so. */
  private static final class HeldConfirms implements Broker {
    final List<Publish> published = new CopyOnWriteArrayList<>();
    private int settled;

    @Override
    public List<String> declare(Topology topology) {
      return List.of();
    }

    @Override
    public CompletableFuture<Void> publish(String exchange, String routingKey, Message message) {
      Publish p = new Publish(routingKey, message, new CompletableFuture<>(), System.nanoTime());
      published.add(p);
      return p.confirm;
    }

    void confirmNext() {
      published.get(settled++).confirm.complete(null);
    }

    void refuseNext() {
      published
          .get(settled++)
          .confirm
          .completeExceptionally(
              new PublishException(PublishException.Reason.NACKED, "refused in a test"));
    }

    @Override
    public Subscription consume(String queue, ConsumeOptions options, Consumer<Delivery> handler) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.util.Optional<Delivery> get(String queue) {
      throw new UnsupportedOperationException();
    }

    @Override
    public java.util.Optional<QueueCounts> inspect(String queue) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String version() {
      return "4.0.5";
    }

    @Override
    public boolean isConnected() {
      return true;
    }

    @Override
    public void close() {}
  }
}
