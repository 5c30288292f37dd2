package io.lovage;

import java.time.Duration;

/** A task passed its hard time limit: the worker gave up on it (Celery's TimeLimitExceeded). */
public final class TimeLimitExceeded extends RuntimeException {
  public TimeLimitExceeded(Duration limit) {
    super("hard time limit (" + limit.toMillis() / 1000.0 + "s) exceeded");
  }
}
