package io.lovage;

/**
 * How a task runs, declared when it is registered.
 *
 * <pre>{@code
 * TaskOptions.DEFAULT.withKind(TaskKind.CPU).withTimeLimits(TimeLimits.of(ofSeconds(50), ofSeconds(60)))
 * TaskOptions.DEFAULT.withRateLimit(RateLimit.parse("50/s"))
 * }</pre>
 *
 * @param kind the pool it runs in
 * @param retry when and how it is retried
 * @param timeLimits soft and hard time limits; a message's {@code timelimit} header overrides them
 * @param rateLimit how many of its tasks each worker starts per second, minute or hour ({@link
 *     RateLimit#NONE}: no limit); a worker's settings and Celery's {@code control rate_limit}
 *     override it
 */
public record TaskOptions(
    TaskKind kind, RetryPolicy retry, TimeLimits timeLimits, RateLimit rateLimit) {
  public static final TaskOptions DEFAULT =
      new TaskOptions(TaskKind.IO, RetryPolicy.DEFAULT, TimeLimits.DEFAULT, RateLimit.NONE);

  public TaskOptions {
    java.util.Objects.requireNonNull(rateLimit, "rateLimit (RateLimit.NONE for none)");
  }

  public TaskOptions withRetry(RetryPolicy policy) {
    return new TaskOptions(kind, policy, timeLimits, rateLimit);
  }

  public TaskOptions withKind(TaskKind newKind) {
    return new TaskOptions(newKind, retry, timeLimits, rateLimit);
  }

  public TaskOptions withTimeLimits(TimeLimits limits) {
    return new TaskOptions(kind, retry, limits, rateLimit);
  }

  public TaskOptions withRateLimit(RateLimit limit) {
    return new TaskOptions(kind, retry, timeLimits, limit);
  }
}
