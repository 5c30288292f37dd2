package io.lovage;

/**
 * How a task runs, declared when it is registered.
 *
 * @param retry when and how it is retried
 */
public record TaskOptions(RetryPolicy retry) {
  public static final TaskOptions DEFAULT = new TaskOptions(RetryPolicy.DEFAULT);

  public TaskOptions withRetry(RetryPolicy policy) {
    return new TaskOptions(policy);
  }
}
