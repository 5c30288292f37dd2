package io.lovage.worker;

/**
 * Sees what a worker does, for metrics: each task received, each run's outcome and run time, and
 * the global rate limits it shares. Called on the worker's threads; keep it quick.
 */
public interface WorkerObserver {
  WorkerObserver NONE = new WorkerObserver() {};

  default void received(String task) {}

  /**
   * @param outcome {@code succeeded}, {@code failed} or {@code retried}
   */
  default void finished(String task, String outcome, double runtimeSeconds) {}

  /** This worker takes part in a task's global rate limit from now on (its tokens can be shown). */
  default void sharesGlobalRate(String task) {}
}
