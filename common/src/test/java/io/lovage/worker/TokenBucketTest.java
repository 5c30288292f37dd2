package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private void advance(Duration by) {
    now.addAndGet(by.toNanos());
  }

  @Test
  void aNewBucketHoldsOneTokenAndNoMoreAsCelerysCapacityOfOne() {
    TokenBucket bucket = new TokenBucket(5, now::get);

    assertTrue(bucket.tryTake());
    assertFalse(bucket.tryTake());
  }

  @Test
  void aTokenComesBackAfterOneIntervalOfTheRate() {
    TokenBucket bucket = new TokenBucket(5, now::get);
    bucket.tryTake();

    advance(Duration.ofMillis(199));
    assertFalse(bucket.tryTake());
    assertEquals(Duration.ofMillis(1), roundUpToMillis(bucket.untilNext()));
    advance(Duration.ofMillis(1));
    assertTrue(bucket.tryTake());
  }

  @Test
  void untilNextSaysHowLongTheNextTokenTakes() {
    TokenBucket bucket = new TokenBucket(100 / 60.0, now::get);

    assertEquals(Duration.ZERO, bucket.untilNext());
    bucket.tryTake();
    assertEquals(Duration.ofMillis(600), roundUpToMillis(bucket.untilNext()));
    advance(Duration.ofMillis(400));
    assertEquals(Duration.ofMillis(200), roundUpToMillis(bucket.untilNext()));
    advance(bucket.untilNext());
    assertTrue(bucket.tryTake(), "a token exactly when untilNext said");
  }

  @Test
  void anIdleBucketDoesNotSaveUpABurst() {
    TokenBucket bucket = new TokenBucket(10, now::get);

    advance(Duration.ofMinutes(5));

    assertTrue(bucket.tryTake());
    assertFalse(bucket.tryTake(), "at most one token however long it waited");
  }

  @Test
  void aLateTakeDoesNotLetTheNextOneComeSooner() {
    TokenBucket bucket = new TokenBucket(5, now::get);
    bucket.tryTake();

    advance(Duration.ofMillis(350)); // woken late
    assertTrue(bucket.tryTake());

    assertEquals(Duration.ofMillis(200), roundUpToMillis(bucket.untilNext()));
  }

  @Test
  void aBucketNeedsARateAboveZero() {
    assertThrows(IllegalArgumentException.class, () -> new TokenBucket(0, now::get));
  }

  private static Duration roundUpToMillis(Duration d) {
    return Duration.ofMillis((d.toNanos() + 999_999) / 1_000_000);
  }
}
