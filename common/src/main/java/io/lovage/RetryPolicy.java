package io.lovage;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * When and how a failed task is tried again, as Celery's {@code autoretry_for}, {@code
 * max_retries}, {@code retry_backoff}, {@code retry_backoff_max} and {@code retry_jitter}.
 *
 * <p>The n-th retry (n from 0) waits {@code min(maxBackoff, backoff * 2^n)}, or with full jitter a
 * random time between zero and that. Each retry is a new message through RabbitMQ's delay ladder,
 * with the {@code retries} header one higher.
 *
 * <pre>{@code
 * RetryPolicy.on(java.io.IOException.class).withMaxRetries(5).withBackoff(Duration.ofSeconds(2), Duration.ofMinutes(5))
 * }</pre>
 *
 * @param retryOn exception types that retry by themselves; empty: only {@link TaskCall#retry}
 */
public record RetryPolicy(
    int maxRetries,
    Duration backoff,
    Duration maxBackoff,
    boolean jitter,
    List<Class<? extends Throwable>> retryOn) {

  public static final int DEFAULT_MAX_RETRIES = 3;
  public static final Duration DEFAULT_BACKOFF = Duration.ofSeconds(1);
  public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofMinutes(10);

  /** Celery's defaults: no automatic retry; an explicit retry at most 3 times. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(DEFAULT_MAX_RETRIES, DEFAULT_BACKOFF, DEFAULT_MAX_BACKOFF, true, List.of());

  public RetryPolicy {
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must be >= 0, got " + maxRetries);
    }
    retryOn = List.copyOf(retryOn);
  }

  /** Retries automatically on these exception types (and their subtypes). */
  @SafeVarargs
  public static RetryPolicy on(Class<? extends Throwable>... types) {
    return DEFAULT.withRetryOn(List.of(types));
  }

  public RetryPolicy withRetryOn(List<Class<? extends Throwable>> types) {
    return new RetryPolicy(maxRetries, backoff, maxBackoff, jitter, types);
  }

  public RetryPolicy withMaxRetries(int max) {
    return new RetryPolicy(max, backoff, maxBackoff, jitter, retryOn);
  }

  public RetryPolicy withBackoff(Duration base, Duration max) {
    return new RetryPolicy(maxRetries, base, max, jitter, retryOn);
  }

  public RetryPolicy withoutJitter() {
    return new RetryPolicy(maxRetries, backoff, maxBackoff, false, retryOn);
  }

  /** Whether this error retries by itself. */
  public boolean retriesOn(Throwable error) {
    return retryOn.stream().anyMatch(type -> type.isInstance(error));
  }

  /** The longest wait before retry number {@code retries} (0 for the first retry). */
  public Duration ceiling(int retries) {
    long base = backoff.toMillis();
    long cap = maxBackoff.toMillis();
    long wait = retries >= 62 || base << Math.min(retries, 62) < 0 ? cap : base << retries;
    return Duration.ofMillis(Math.min(cap, Math.max(0, wait)));
  }

  /** The wait before retry number {@code retries}: the ceiling, or a random part of it. */
  public Duration delay(int retries) {
    long ceiling = ceiling(retries).toMillis();
    return jitter
        ? Duration.ofMillis(ThreadLocalRandom.current().nextLong(ceiling + 1))
        : Duration.ofMillis(ceiling);
  }
}
