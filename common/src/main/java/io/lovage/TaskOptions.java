package io.lovage;

/**
 * How a task runs, declared when it is registered.
 *
 * <pre>{@code
 * TaskOptions.DEFAULT.withKind(TaskKind.CPU).withTimeLimits(TimeLimits.of(ofSeconds(50), ofSeconds(60)))
 * TaskOptions.DEFAULT.withRateLimit(RateLimit.parse("50/s"))
 * TaskOptions.DEFAULT.withConcurrency(ConcurrencyLimit.perKey(2, "customer_id"))
 * }</pre>
 *
 * @param kind the pool it runs in
 * @param retry when and how it is retried
 * @param timeLimits soft and hard time limits; a message's {@code timelimit} header overrides them
 * @param rateLimit how many of its tasks each worker starts per second, minute or hour ({@link
 *     RateLimit#NONE}: no limit); a worker's settings and Celery's {@code control rate_limit}
 *     override it
 * @param concurrency how many of its tasks run at once across all workers, per task name or per
 *     value of an argument ({@link ConcurrencyLimit#NONE}: no limit)
 */
public record TaskOptions(
    TaskKind kind,
    RetryPolicy retry,
    TimeLimits timeLimits,
    RateLimit rateLimit,
    ConcurrencyLimit concurrency) {
  public static final TaskOptions DEFAULT =
      new TaskOptions(
          TaskKind.IO,
          RetryPolicy.DEFAULT,
          TimeLimits.DEFAULT,
          RateLimit.NONE,
          ConcurrencyLimit.NONE);

  public TaskOptions {
    java.util.Objects.requireNonNull(rateLimit, "rateLimit (RateLimit.NONE for none)");
    java.util.Objects.requireNonNull(concurrency, "concurrency (ConcurrencyLimit.NONE for none)");
  }

  public TaskOptions withRetry(RetryPolicy policy) {
    return new TaskOptions(kind, policy, timeLimits, rateLimit, concurrency);
  }

  public TaskOptions withKind(TaskKind newKind) {
    return new TaskOptions(newKind, retry, timeLimits, rateLimit, concurrency);
  }

  public TaskOptions withTimeLimits(TimeLimits limits) {
    return new TaskOptions(kind, retry, limits, rateLimit, concurrency);
  }

  public TaskOptions withRateLimit(RateLimit limit) {
    return new TaskOptions(kind, retry, timeLimits, limit, concurrency);
  }

  public TaskOptions withConcurrency(ConcurrencyLimit limit) {
    return new TaskOptions(kind, retry, timeLimits, rateLimit, limit);
  }
}
