package io.lovage;

import java.time.Duration;

/**
 * Celery's time limits. At the soft limit the task's thread is interrupted, so it can clean up; at
 * the hard limit the worker stops waiting, the task is a FAILURE with {@code TimeLimitExceeded},
 * and a thread that ignored the interruption is abandoned (its pool slot is given to the next
 * task).
 *
 * @param soft when to interrupt, or null for none
 * @param hard when to give up, or null for the worker's default
 */
public record TimeLimits(Duration soft, Duration hard) {
  /**
   * The hard limit of a task that declares none: below RabbitMQ's consumer_timeout (30 minutes), so
   * the broker never closes the channel under a slow task.
   */
  public static final Duration DEFAULT_HARD = Duration.ofMinutes(25);

  public static final TimeLimits DEFAULT = new TimeLimits(null, null);

  public static TimeLimits of(Duration soft, Duration hard) {
    return new TimeLimits(soft, hard);
  }

  /** The hard limit, or the default when none is set. */
  public Duration hardOrDefault() {
    return hard == null ? DEFAULT_HARD : hard;
  }

  /** These limits, with the message's where it sets them (Celery's {@code timelimit} header). */
  public TimeLimits overriddenBy(Double softSeconds, Double hardSeconds) {
    return new TimeLimits(
        softSeconds == null ? soft : seconds(softSeconds),
        hardSeconds == null ? hard : seconds(hardSeconds));
  }

  private static Duration seconds(double value) {
    return Duration.ofMillis(Math.round(value * 1000));
  }
}
