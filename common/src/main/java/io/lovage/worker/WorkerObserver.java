package io.lovage.worker;

/**
 * Sees what a worker does, for metrics: each task received, and each run's outcome and run time.
 * Called on the worker's threads; keep it quick.
 */
public interface WorkerObserver {
  WorkerObserver NONE = new WorkerObserver() {};

  default void received(String task) {}

  /**
   * @param outcome {@code succeeded}, {@code failed} or {@code retried}
   */
  default void finished(String task, String outcome, double runtimeSeconds) {}
}
