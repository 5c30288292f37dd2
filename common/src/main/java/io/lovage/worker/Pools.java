package io.lovage.worker;

import io.lovage.TaskCall;
import io.lovage.TaskKind;
import io.lovage.TaskRegistry;
import io.lovage.TaskRegistry.TaskDefinition;
import io.lovage.protocol.TaskMessage;
import io.lovage.worker.process.ChildTask;
import io.lovage.worker.process.ProcessPool;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Where task code runs, chosen by the task's kind: IO tasks each on a new virtual thread, CPU tasks
 * each on a new platform thread, at most {@code cpuConcurrency} at once, PROCESS tasks (or every
 * task, with {@code LOVAGE_POOL=process}) in the child processes of the {@link ProcessPool}. A new
 * thread per task means a thread abandoned at its hard time limit takes no pool slot with it: the
 * slot goes to the next task.
 */
final class Pools {
  private final ThreadFactory io = Thread.ofVirtual().name("lovage-io-", 0).factory();
  private final ThreadFactory cpu =
      Thread.ofPlatform().name("lovage-cpu-", 0).daemon(true).factory();
  private final Semaphore cpuSlots;
  private final int cpuConcurrency;
  private final Set<TaskKind> processKinds;

  /** Null when no registered task runs in child processes: then none is started. */
  private final ProcessPool processes;

  private volatile boolean closing;

  Pools(WorkerSettings settings, TaskRegistry tasks) {
    this.cpuConcurrency = settings.cpuConcurrency();
    this.cpuSlots = new Semaphore(cpuConcurrency);
    this.processKinds = settings.processes().kinds();
    Set<String> inProcesses =
        tasks.names().stream()
            .filter(name -> processKinds.contains(tasks.find(name).orElseThrow().options().kind()))
            .collect(Collectors.toSet());
    this.processes =
        inProcesses.isEmpty()
            ? null
            : new ProcessPool(settings.processes(), settings.shutdownGrace(), inProcesses);
  }

  /** A task's code running: on a thread of this JVM, or in a child process. */
  interface Running {
    /** The task's return value, or what it threw. */
    CompletableFuture<Object> value();

    /** Soft time limit, revocation, shutdown: interrupts the task's thread. */
    void interrupt();

    /**
     * Hard time limit: a thread is interrupted and left to itself (a JVM cannot kill a thread); a
     * child process is killed.
     */
    void stop();

    /** The worker no longer waits for the task: its CPU slot goes to the next task. */
    void release();
  }

  /** Starts the child processes the process pool keeps, if any task runs in it. */
  void open() {
    if (processes != null) {
      processes.open();
    }
  }

  /**
   * Starts the task in the pool of its kind; for CPU this waits for a free slot first, for a child
   * process for a free child. The slot is released by {@link Running#release}, when the task
   * finished or was given up.
   *
   * @param started called just before the task runs, with how to terminate it (revocation): a
   *     thread is interrupted, a child process killed
   */
  Running start(
      TaskDefinition definition,
      TaskMessage message,
      Consumer<Runnable> started,
      TaskCall.Progress progress)
      throws InterruptedException {
    TaskKind kind = definition.options().kind();
    if (processKinds.contains(kind)) {
      return new InChild(processes.submit(message, started, progress));
    }
    return onThread(
        kind,
        () -> {
          started.accept(Thread.currentThread()::interrupt);
          return definition.task().run(new TaskCall(message, progress));
        });
  }

  private Running onThread(TaskKind kind, Callable<Object> body) throws InterruptedException {
    boolean cpuTask = kind == TaskKind.CPU;
    if (cpuTask) {
      // A task still waiting for a slot when the worker stops is not started at all.
      while (!cpuSlots.tryAcquire(50, TimeUnit.MILLISECONDS)) {
        if (closing) {
          throw new InterruptedException("worker stopping: task not started");
        }
      }
    }
    CompletableFuture<Object> value = new CompletableFuture<>();
    Thread thread =
        (cpuTask ? cpu : io)
            .newThread(
                () -> {
                  try {
                    value.complete(body.call());
                  } catch (Throwable e) {
                    value.completeExceptionally(e);
                  }
                });
    thread.start();
    return new OnThread(thread, value, cpuTask ? cpuSlots::release : () -> {});
  }

  private record OnThread(Thread thread, CompletableFuture<Object> value, Runnable slot)
      implements Running {
    @Override
    public void interrupt() {
      thread.interrupt();
    }

    @Override
    public void stop() {
      thread.interrupt();
    }

    @Override
    public void release() {
      slot.run();
    }
  }

  private record InChild(ChildTask task) implements Running {
    @Override
    public CompletableFuture<Object> value() {
      return task.value();
    }

    @Override
    public void interrupt() {
      task.interrupt();
    }

    @Override
    public void stop() {
      task.kill();
    }

    @Override
    public void release() {
      // The child went back to the pool, or was replaced, when its task ended.
    }
  }

  /**
   * From now on, tasks waiting for a slot or a child are not started; idle child processes exit,
   * busy ones after their task.
   */
  void drain() {
    closing = true;
    if (processes != null) {
      processes.drain();
    }
  }

  /** Kills the child processes still there (after the shutdown grace). */
  void close() {
    if (processes != null) {
      processes.close();
    }
  }

  int cpuActive() {
    return cpuConcurrency - cpuSlots.availablePermits();
  }

  int processActive() {
    return processes == null ? 0 : processes.active();
  }

  int processChildren() {
    return processes == null ? 0 : processes.children();
  }

  /** The process pool, if some registered task runs in child processes. */
  java.util.Optional<ProcessPool> processPool() {
    return java.util.Optional.ofNullable(processes);
  }
}
