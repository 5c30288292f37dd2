package io.lovage;

import java.time.Duration;

/**
 * Thrown by a task to be run again later, like Celery's {@code raise self.retry(...)}. Made by
 * {@link TaskCall#retry}; a worker catches it. Past the task's max retries the task fails with the
 * cause.
 */
public final class RetryRequest extends RuntimeException {
  private final transient Duration countdown;

  RetryRequest(Duration countdown, Throwable cause) {
    super(cause == null ? "retry requested" : "retry after " + cause, cause, false, false);
    this.countdown = countdown;
  }

  /** The wait asked for, or null for the task's backoff. */
  public Duration countdown() {
    return countdown;
  }
}
