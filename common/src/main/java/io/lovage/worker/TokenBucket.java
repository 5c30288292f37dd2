package io.lovage.worker;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * kombu's {@code TokenBucket} as Celery's worker uses it for a task's rate limit: it holds at most
 * one token (Celery's capacity 1, so no burst beyond one task), starts full, and refills at the
 * limit's rate. Not thread-safe: its owner ({@link RateLimiter}) guards it.
 */
final class TokenBucket {
  private static final double CAPACITY = 1;

  /** Refills are sums of small fractions: a token due now may be short by a rounding error. */
  private static final double ROUNDING = 1e-9;

  private final double perNano;
  private final LongSupplier nanoTime;
  private double tokens = CAPACITY;
  private long timestamp;

  /**
   * @param perSecond tokens added per second, above 0
   * @param nanoTime a monotonic clock, {@code System::nanoTime} but in tests
   */
  TokenBucket(double perSecond, LongSupplier nanoTime) {
    if (!(perSecond > 0)) {
      throw new IllegalArgumentException("a token bucket needs a rate above 0, got " + perSecond);
    }
    this.perNano = perSecond / 1e9;
    this.nanoTime = nanoTime;
    this.timestamp = nanoTime.getAsLong();
  }

  /** Takes a token if there is one (kombu's {@code can_consume(1)}). */
  boolean tryTake() {
    refill();
    if (tokens >= 1 - ROUNDING) {
      tokens = Math.max(0, tokens - 1);
      return true;
    }
    return false;
  }

  /** How long until a token is there; zero if one is there now (kombu's {@code expected_time}). */
  Duration untilNext() {
    refill();
    return tokens >= 1 - ROUNDING
        ? Duration.ZERO
        : Duration.ofNanos(Math.round((1 - tokens) / perNano));
  }

  private void refill() {
    long now = nanoTime.getAsLong();
    if (tokens < CAPACITY) {
      tokens = Math.min(CAPACITY, tokens + (now - timestamp) * perNano);
    }
    timestamp = now;
  }
}
