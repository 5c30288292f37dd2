package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.RateLimit;
import io.lovage.broker.Delivery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The rate limit stage with a clock and a timer the test moves: no sleeps. */
class RateLimiterTest {
  private final AtomicLong now = new AtomicLong();
  private final List<Wake> timers = new ArrayList<>();
  private final List<String> passed = new ArrayList<>();

  private record Wake(long at, Runnable action, boolean[] cancelled) {}

  private final RateLimiter limiter =
      new RateLimiter(
          Map.of("sms", RateLimit.parse("5/s"), "report", RateLimit.NONE),
          delivery -> passed.add(((FakeDelivery) delivery).id),
          Runnable::run,
          (delay, action) -> {
            boolean[] cancelled = {false};
            timers.add(new Wake(now.get() + delay.toNanos(), action, cancelled));
            return () -> cancelled[0] = true;
          },
          now::get);

  /** Moves the clock on, running each wake-up that comes due on the way, in time order. */
  private void advance(Duration by) {
    long until = now.get() + by.toNanos();
    while (true) {
      Wake next =
          timers.stream()
              .filter(w -> w.at() <= until)
              .min(java.util.Comparator.comparingLong(Wake::at))
              .orElse(null);
      if (next == null) {
        break;
      }
      timers.remove(next);
      now.set(Math.max(now.get(), next.at()));
      if (!next.cancelled()[0]) {
        next.action().run();
      }
    }
    now.set(until);
  }

  @Test
  void aTaskWithoutALimitPassesStraightOn() {
    for (int i = 0; i < 10; i++) {
      limiter.admit(delivery("report", "r" + i));
      limiter.admit(delivery("other", "o" + i));
    }

    assertEquals(20, passed.size());
    assertEquals(0, limiter.held());
    assertTrue(timers.isEmpty());
  }

  @Test
  void aLimitedTaskOverItsRateIsHeldAndPassedOnOneTokenAtATimeInOrder() {
    for (int i = 0; i < 4; i++) {
      limiter.admit(delivery("sms", "s" + i));
    }

    assertEquals(List.of("s0"), passed, "the bucket starts with one token");
    assertEquals(3, limiter.held());
    advance(Duration.ofMillis(199));
    assertEquals(List.of("s0"), passed);
    advance(Duration.ofMillis(1));
    assertEquals(List.of("s0", "s1"), passed);
    advance(Duration.ofMillis(400));
    assertEquals(List.of("s0", "s1", "s2", "s3"), passed);
    assertEquals(0, limiter.held());
  }

  @Test
  void aHeldTaskDoesNotHoldUpOtherTasks() {
    limiter.admit(delivery("sms", "s0"));
    limiter.admit(delivery("sms", "s1"));

    limiter.admit(delivery("report", "r0"));
    limiter.admit(delivery("other", "o0"));

    assertEquals(List.of("s0", "r0", "o0"), passed);
  }

  @Test
  void aNewDeliveryWaitsBehindTheHeldOnesEvenWhenATokenIsThere() {
    limiter.admit(delivery("sms", "s0"));
    limiter.admit(delivery("sms", "s1"));
    now.addAndGet(Duration.ofMillis(250).toNanos()); // a token is there, the wake-up not yet run

    limiter.admit(delivery("sms", "s2"));

    assertEquals(List.of("s0"), passed);
    advance(Duration.ZERO);
    assertEquals(List.of("s0", "s1"), passed, "the one that waited longest goes first");
  }

  @Test
  void aNewLimitAppliesToTheTasksHeldAlready() {
    for (int i = 0; i < 5; i++) {
      limiter.admit(delivery("sms", "s" + i));
    }

    limiter.set("sms", RateLimit.parse("100/s"));

    assertEquals(List.of("s0", "s1"), passed, "a new limit starts with a full bucket");
    advance(Duration.ofMillis(30));
    assertEquals(List.of("s0", "s1", "s2", "s3", "s4"), passed);
    assertEquals(RateLimit.parse("100/s"), limiter.limitOf("sms"));
  }

  @Test
  void liftingALimitPassesOnEveryHeldTaskAtOnce() {
    for (int i = 0; i < 5; i++) {
      limiter.admit(delivery("sms", "s" + i));
    }

    limiter.set("sms", RateLimit.NONE);

    assertEquals(List.of("s0", "s1", "s2", "s3", "s4"), passed);
    limiter.admit(delivery("sms", "s5"));
    assertEquals(6, passed.size());
    advance(Duration.ofSeconds(10));
    assertEquals(6, passed.size(), "the cancelled wake-up passes nothing on twice");
  }

  @Test
  void aLimitSetAtRunTimeHoldsATaskThatHadNone() {
    limiter.set("report", RateLimit.parse("2/s"));

    limiter.admit(delivery("report", "r0"));
    limiter.admit(delivery("report", "r1"));

    assertEquals(List.of("r0"), passed);
    advance(Duration.ofMillis(500));
    assertEquals(List.of("r0", "r1"), passed);
  }

  @Test
  void closingHandsBackTheHeldDeliveriesAndPassesLaterOnesStraightOn() {
    for (int i = 0; i < 3; i++) {
      limiter.admit(delivery("sms", "s" + i));
    }

    List<Delivery> held = limiter.close();

    assertEquals(List.of("s1", "s2"), held.stream().map(d -> ((FakeDelivery) d).id).toList());
    advance(Duration.ofSeconds(5));
    assertEquals(List.of("s0"), passed, "nothing held passes on after close");
    limiter.admit(delivery("sms", "s3"));
    assertEquals(List.of("s0", "s3"), passed, "the worker requeues what comes after close");
  }

  @Test
  void aHeldDeliveryWhoseChannelWentDownIsDroppedWithoutTakingAToken() {
    limiter.admit(delivery("sms", "s0"));
    FakeDelivery lost = delivery("sms", "lost");
    limiter.admit(lost);
    limiter.admit(delivery("sms", "s2"));
    lost.held = false; // RabbitMQ has it back and delivers it again

    advance(Duration.ofMillis(200));

    assertEquals(List.of("s0", "s2"), passed);
    assertEquals(0, limiter.held());
  }

  @Test
  void aMessageWithoutATaskHeaderPassesOnForTheWorkerToReject() {
    limiter.admit(new FakeDelivery(null, "no-header"));

    assertEquals(List.of("no-header"), passed);
  }

  private static FakeDelivery delivery(String task, String id) {
    return new FakeDelivery(task, id);
  }
}
