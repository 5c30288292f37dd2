package io.lovage;

/**
 * How a task runs, declared when it is registered.
 *
 * <pre>{@code
 * TaskOptions.DEFAULT.withKind(TaskKind.CPU).withTimeLimits(TimeLimits.of(ofSeconds(50), ofSeconds(60)))
 * }</pre>
 *
 * @param kind the pool it runs in
 * @param retry when and how it is retried
 * @param timeLimits soft and hard time limits; a message's {@code timelimit} header overrides them
 */
public record TaskOptions(TaskKind kind, RetryPolicy retry, TimeLimits timeLimits) {
  public static final TaskOptions DEFAULT =
      new TaskOptions(TaskKind.IO, RetryPolicy.DEFAULT, TimeLimits.DEFAULT);

  public TaskOptions withRetry(RetryPolicy policy) {
    return new TaskOptions(kind, policy, timeLimits);
  }

  public TaskOptions withKind(TaskKind newKind) {
    return new TaskOptions(newKind, retry, timeLimits);
  }

  public TaskOptions withTimeLimits(TimeLimits limits) {
    return new TaskOptions(kind, retry, limits);
  }
}
