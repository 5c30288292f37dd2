package io.lovage;

/**
 * The process running a task died before the task finished (Celery's {@code WorkerLostError}): a
 * child process of the process pool that crashed or ran out of memory, or a worker that died with
 * the task's message on each of its last deliveries. Retried only when the task's {@link
 * RetryPolicy} names it:
 *
 * <pre>{@code
 * TaskOptions.DEFAULT.withKind(TaskKind.PROCESS).withRetry(RetryPolicy.on(WorkerLostError.class))
 * }</pre>
 */
public final class WorkerLostError extends RuntimeException {
  public WorkerLostError(String message) {
    // No stack trace: it would show the worker's thread, not the lost task.
    super(message, null, false, false);
  }
}
