package io.lovage;

import java.time.Duration;

/**
 * A task was interrupted at its soft time limit and ended by an exception (Celery's
 * SoftTimeLimitExceeded). A task that handles the interruption and returns a value succeeds.
 */
public final class SoftTimeLimitExceeded extends RuntimeException {
  public SoftTimeLimitExceeded(Duration limit, Throwable cause) {
    super("soft time limit (" + limit.toMillis() / 1000.0 + "s) exceeded", cause);
  }
}
