package io.lovage.worker;

import io.lovage.RetryPolicy;
import io.lovage.RetryRequest;
import io.lovage.SoftTimeLimitExceeded;
import io.lovage.TaskCall;
import io.lovage.TaskError;
import io.lovage.TaskRegistry.TaskDefinition;
import io.lovage.TimeLimitExceeded;
import io.lovage.TimeLimits;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.worker.process.ChildTaskFailed;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Runs one task in its pool under its time limits and decides its {@link Outcome}: the result, or
 * for an error whether the task's {@link RetryPolicy} (or the message's {@code max_retries} header)
 * allows another try.
 */
final class TaskRunner {
  /** A message header that overrides the task's max retries for that message. */
  static final String MAX_RETRIES_HEADER = "max_retries";

  private TaskRunner() {}

  /**
   * @param started called just before the task runs (once it has a slot or a child process), with
   *     how to terminate it
   */
  static Outcome run(
      TaskDefinition definition,
      TaskMessage message,
      Pools pools,
      Consumer<Runnable> started,
      TaskCall.Progress progress) {
    long start = System.nanoTime();
    TimeLimits limits =
        definition
            .options()
            .timeLimits()
            .overriddenBy(message.timeLimit().soft(), message.timeLimit().hard());
    Pools.Running running;
    try {
      running = pools.start(definition, message, started, progress);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Outcome.Abandoned(seconds(start));
    }
    try {
      Object value = await(running, limits);
      return new Outcome.Success(Json.MAPPER.valueToTree(value), seconds(start));
    } catch (InterruptedException e) {
      running.interrupt();
      Thread.currentThread().interrupt();
      return new Outcome.Abandoned(seconds(start));
    } catch (Exception | StackOverflowError e) {
      Throwable error = e instanceof ExecutionException ex ? ex.getCause() : e;
      return failed(definition, message, error, seconds(start));
    } finally {
      running.release();
    }
  }

  /**
   * Waits for the task: at the soft limit its thread is interrupted; at the hard limit the wait
   * ends with {@link TimeLimitExceeded}, and the task is stopped (a thread is left to itself, a
   * child process killed).
   */
  private static Object await(Pools.Running running, TimeLimits limits)
      throws InterruptedException, ExecutionException {
    long startNanos = System.nanoTime();
    Duration hard = limits.hardOrDefault();
    Duration soft = limits.soft();
    boolean softFired = false;
    if (soft != null && soft.compareTo(hard) < 0) {
      try {
        return running.value().get(soft.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException t) {
        softFired = true;
        running.interrupt();
      }
    }
    long left = hard.toNanos() - (System.nanoTime() - startNanos);
    try {
      return running.value().get(Math.max(0, left), TimeUnit.NANOSECONDS);
    } catch (TimeoutException t) {
      running.stop();
      throw new ExecutionException(new TimeLimitExceeded(hard));
    } catch (ExecutionException e) {
      if (softFired && !(e.getCause() instanceof TimeLimitExceeded)) {
        throw new ExecutionException(new SoftTimeLimitExceeded(soft, e.getCause()));
      }
      throw e;
    }
  }

  private static Outcome failed(
      TaskDefinition definition, TaskMessage message, Throwable e, double runtime) {
    Throwable cause = e instanceof RetryRequest r && r.getCause() != null ? r.getCause() : e;
    // A task that threw in a child process: its error as the child recorded it.
    TaskError error = cause instanceof ChildTaskFailed child ? child.error() : TaskError.of(cause);
    return retryDelay(definition.options().retry(), message, e)
        .<Outcome>map(delay -> new Outcome.Retry(delay, error, runtime))
        .orElseGet(() -> new Outcome.Failure(error, runtime));
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
