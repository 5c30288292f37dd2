package io.lovage.worker;

import io.lovage.RetryPolicy;
import io.lovage.RetryRequest;
import io.lovage.TaskCall;
import io.lovage.TaskError;
import io.lovage.TaskRegistry.TaskDefinition;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import java.time.Duration;
import java.util.Optional;

/**
 * Runs one task and decides its {@link Outcome}: the result, or for an error whether the task's
 * {@link RetryPolicy} (or the message's {@code max_retries} header) allows another try.
 */
final class TaskRunner {
  /** A message header that overrides the task's max retries for that message. */
  static final String MAX_RETRIES_HEADER = "max_retries";

  private TaskRunner() {}

  static Outcome run(TaskDefinition definition, TaskMessage message) {
    long start = System.nanoTime();
    try {
      Object value = definition.task().run(new TaskCall(message));
      return new Outcome.Success(Json.MAPPER.valueToTree(value), seconds(start));
    } catch (Exception | StackOverflowError e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      Throwable cause = e instanceof RetryRequest r && r.getCause() != null ? r.getCause() : e;
      TaskError error = TaskError.of(cause);
      return retryDelay(definition.options().retry(), message, e)
          .<Outcome>map(delay -> new Outcome.Retry(delay, error, seconds(start)))
          .orElseGet(() -> new Outcome.Failure(error, seconds(start)));
    }
  }

  static Optional<Duration> retryDelay(RetryPolicy policy, TaskMessage message, Throwable error) {
    int max =
        message.extraHeaders().get(MAX_RETRIES_HEADER) instanceof Number n
            ? n.intValue()
            : policy.maxRetries();
    if (message.retries() >= max) {
      return Optional.empty();
    }
    if (error instanceof RetryRequest request) {
      return Optional.of(
          request.countdown() != null ? request.countdown() : policy.delay(message.retries()));
    }
    return policy.retriesOn(error)
        ? Optional.of(policy.delay(message.retries()))
        : Optional.empty();
  }

  private static double seconds(long start) {
    return (System.nanoTime() - start) / 1e9;
  }
}
