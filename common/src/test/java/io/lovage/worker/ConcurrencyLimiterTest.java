package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.ConcurrencyLimit;
import io.lovage.broker.Delivery;
import io.lovage.broker.InMemoryBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The concurrency limit stage with permits in an {@link InMemoryBroker}, and an executor and timer
 * the test runs by hand: no sleeps.
 */
class ConcurrencyLimiterTest {
  private final InMemoryBroker broker = new InMemoryBroker();
  private final Permits permits = new Permits(broker);
  private final ArrayDeque<Runnable> asks = new ArrayDeque<>();
  private final List<Runnable> timers = new ArrayList<>();
  private final List<Delivery> passed = new ArrayList<>();

  private final ConcurrencyLimiter limiter =
      new ConcurrencyLimiter(
          Map.of(
              "charge", ConcurrencyLimit.perKey(2, "customer_id").atPosition(0),
              "report", ConcurrencyLimit.of(1)),
          permits::take,
          passed::add,
          asks::add,
          (delay, action) -> {
            timers.add(action);
            return () -> timers.remove(action);
          });

  @AfterEach
  void closeBroker() {
    broker.close();
  }

  private void runAsks() {
    while (!asks.isEmpty()) {
      asks.poll().run();
    }
  }

  /** Wakes the lanes that paused for lack of a permit, as their timers would. */
  private void wakeAll() {
    List.copyOf(timers).forEach(Runnable::run);
    timers.clear();
    runAsks();
  }

  private List<String> passedIds() {
    return passed.stream().map(d -> (String) d.message().headers().get("id")).toList();
  }

  @Test
  void aTaskWithoutALimitPassesStraightOnWithoutAPermit() {
    limiter.admit(charge("other", "o1", Map.of()));

    assertEquals(List.of("o1"), passedIds());
    assertTrue(asks.isEmpty());
  }

  @Test
  void atMostTwoOfOneCustomerPassAndTheNextGoesOnWhenOneIsSettled() {
    for (int i = 0; i < 4; i++) {
      limiter.admit(charge("charge", "a" + i, Map.of("customer_id", "acme")));
    }
    runAsks();

    assertEquals(List.of("a0", "a1"), passedIds());
    assertEquals(2, limiter.held());
    String queue = Permits.queue("charge", 2, "acme");
    assertEquals(0, broker.ready(queue), "both permits are taken");
    assertEquals(1, timers.size(), "the lane asks again later");

    passed.get(0).ack();
    runAsks();

    assertEquals(List.of("a0", "a1", "a2"), passedIds(), "the permit went to the next at once");
    assertEquals(1, limiter.held());
    assertEquals(0, broker.ready(queue));
  }

  @Test
  void eachCustomerHasItsOwnPermitsWhetherTheKeyComesByNameOrByPosition() {
    limiter.admit(charge("charge", "a0", Map.of("customer_id", "acme")));
    limiter.admit(charge("charge", "a1", Map.of("customer_id", "acme")));
    limiter.admit(positional("a2", "acme"));
    limiter.admit(charge("charge", "b0", Map.of("customer_id", "bolt")));
    limiter.admit(positional("b1", "bolt"));
    runAsks();

    assertEquals(List.of("a0", "a1", "b0", "b1"), passedIds());
    assertEquals(1, limiter.held(), "a2 waits: acme has two running");
    assertNotEquals(Permits.queue("charge", 2, "acme"), Permits.queue("charge", 2, "bolt"));
  }

  @Test
  void aPermitGivenBackElsewhereIsFoundOnTheNextAsk() {
    ConcurrencyLimiter other =
        new ConcurrencyLimiter(
            Map.of("report", ConcurrencyLimit.of(1)),
            permits::take,
            passed::add,
            Runnable::run,
            (delay, action) -> () -> {});
    other.admit(charge("report", "elsewhere", Map.of()));
    limiter.admit(charge("report", "r0", Map.of()));
    runAsks();
    assertEquals(List.of("elsewhere"), passedIds());

    passed.get(0).ack(); // the other worker's task ends: nothing tells this one
    wakeAll();

    assertEquals(List.of("elsewhere", "r0"), passedIds());
  }

  @Test
  void permitsAreMadeOnceSoLimitersStartingTogetherNeverMakeMoreThanTheLimit() {
    String queue = Permits.queue("report", 1, null);
    permits.take(queue, 3).orElseThrow();
    permits.take(queue, 3).orElseThrow();
    // A second worker's take sees the marker and makes no more, though two are out unacked.
    permits.take(queue, 3).orElseThrow();

    assertTrue(permits.take(queue, 3).isEmpty());
    assertEquals(0, broker.ready(queue));
  }

  @Test
  void aRequeuedOrRejectedTaskGivesItsPermitBackExactlyOnce() {
    limiter.admit(charge("report", "r0", Map.of()));
    limiter.admit(charge("report", "r1", Map.of()));
    limiter.admit(charge("report", "r2", Map.of()));
    runAsks();
    String queue = Permits.queue("report", 1, null);

    passed.get(0).requeue();
    runAsks();
    assertEquals(List.of("r0", "r1"), passedIds());
    passed.get(1).reject();
    runAsks();

    assertEquals(List.of("r0", "r1", "r2"), passedIds());
    passed.get(2).ack();
    assertEquals(1, broker.ready(queue), "one permit, back in its queue");
  }

  @Test
  void closingHandsBackTheWaitingDeliveriesAndPassesLaterOnesStraightOn() {
    for (int i = 0; i < 3; i++) {
      limiter.admit(charge("report", "r" + i, Map.of()));
    }
    runAsks();

    List<Delivery> waiting = limiter.close();

    assertEquals(2, waiting.size());
    assertEquals(0, limiter.held());
    assertTrue(timers.isEmpty(), "no ask scheduled any more");
    limiter.admit(charge("report", "late", Map.of()));
    assertEquals(List.of("r0", "late"), passedIds());
  }

  @Test
  void aWaitingDeliveryWhoseChannelWentDownIsDroppedAndTakesNoPermit() {
    limiter.admit(charge("report", "r0", Map.of()));
    FakeDelivery lost = charge("report", "r1", Map.of());
    limiter.admit(lost);
    limiter.admit(charge("report", "r2", Map.of()));
    runAsks();

    lost.held = false; // its channel closed: RabbitMQ delivers it again elsewhere
    passed.get(0).ack();
    runAsks();

    assertEquals(List.of("r0", "r2"), passedIds());
    assertEquals(0, limiter.held());
  }

  private static FakeDelivery charge(String task, String id, Map<String, ?> kwargs) {
    return new FakeDelivery(
        id, TaskMessageCodec.encode(TaskMessage.builder(task).id(id).kwargs(kwargs).build()));
  }

  private static FakeDelivery positional(String id, String customer) {
    return new FakeDelivery(
        id,
        TaskMessageCodec.encode(TaskMessage.builder("charge").id(id).args(customer, 10).build()));
  }
}
