package io.lovage.worker;

import io.lovage.TaskKind;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Where task code runs: IO tasks each on a new virtual thread, CPU tasks each on a new platform
 * thread, at most {@code cpuConcurrency} at once. A new thread per task means a thread abandoned at
 * its hard time limit takes no pool slot with it: the slot goes to the next task.
 */
final class Pools {
  private final ThreadFactory io = Thread.ofVirtual().name("lovage-io-", 0).factory();
  private final ThreadFactory cpu =
      Thread.ofPlatform().name("lovage-cpu-", 0).daemon(true).factory();
  private final Semaphore cpuSlots;
  private final int cpuConcurrency;
  private volatile boolean closing;

  Pools(int cpuConcurrency) {
    this.cpuConcurrency = cpuConcurrency;
    this.cpuSlots = new Semaphore(cpuConcurrency);
  }

  /** A task's code running on its own thread. */
  record Running(Thread thread, CompletableFuture<Object> value) {}

  /**
   * Starts {@code body} in the pool of {@code kind}; for CPU this waits for a free slot first. The
   * slot is released by {@link #release}, when the task finished or was given up.
   */
  Running start(TaskKind kind, Callable<Object> body) throws InterruptedException {
    if (kind == TaskKind.CPU) {
      // A task still waiting for a slot when the worker stops is not started at all.
      while (!cpuSlots.tryAcquire(50, TimeUnit.MILLISECONDS)) {
        if (closing) {
          throw new InterruptedException("worker stopping: task not started");
        }
      }
    }
    CompletableFuture<Object> value = new CompletableFuture<>();
    Thread thread =
        (kind == TaskKind.CPU ? cpu : io)
            .newThread(
                () -> {
                  try {
                    value.complete(body.call());
                  } catch (Throwable e) {
                    value.completeExceptionally(e);
                  }
                });
    thread.start();
    return new Running(thread, value);
  }

  void release(TaskKind kind) {
    if (kind == TaskKind.CPU) {
      cpuSlots.release();
    }
  }

  /** From now on, tasks waiting for a slot are not started. */
  void close() {
    closing = true;
  }

  int cpuActive() {
    return cpuConcurrency - cpuSlots.availablePermits();
  }
}
