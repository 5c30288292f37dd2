package io.lovage.worker.process;

import io.lovage.TaskCall;
import io.lovage.WorkerLostError;
import io.lovage.protocol.TaskMessage;
import io.lovage.worker.process.Child.State;
import io.lovage.worker.process.Frames.Ready;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Child JVM processes that run tasks, one task at a time each, like Celery's prefork pool: the
 * worker keeps the broker, acknowledgements and results; a child only runs a task and answers over
 * its pipes. A child that crashes costs only its own task, which ends with {@link WorkerLostError}.
 *
 * <p>Between {@code min} and {@code max} children: a task that finds none idle starts one (up to
 * {@code max}); a child idle longer than the idle timeout stops (down to {@code min}). A child is
 * replaced after {@code maxTasksPerChild} tasks or once its resident memory is above {@code
 * maxMemoryPerChild}, when its current task has finished. {@link #resize} changes {@code min} and
 * {@code max} while the pool runs (Celery's {@code pool_grow}, {@code pool_shrink}, {@code
 * autoscale}).
 *
 * <p>Children never outlive the worker: they exit when their stdin ends, which happens when the
 * worker closes the pool or dies, and a shutdown hook kills those still there once running tasks
 * had the shutdown grace.
 */
public final class ProcessPool implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ProcessPool.class);

  /** How long a new child may take to start its JVM and load its tasks. */
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  /** How long a child that was asked to exit gets before it is killed. */
  static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

  private static final Duration TICK = Duration.ofSeconds(1);

  /**
   * Replaced as a whole by {@link #resize} (under the lock), so a reader sees one consistent pair
   * of bounds; volatile for the readers outside the lock.
   */
  private volatile ProcessPoolSettings settings;

  private final Duration shutdownGrace;
  private final Set<String> tasks;
  private final List<String> command;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();

  // Guarded by lock. Idle children, most recently used first: the longest idle stop first.
  private final Deque<Child> idle = new ArrayDeque<>();
  private final Set<Child> processes = new HashSet<>(); // every child not yet exited
  private int live; // idle or busy
  private int busy;
  private int starting;
  private int waiting;
  private boolean closing;

  private volatile boolean killing;
  private final AtomicBoolean missingTasksLogged = new AtomicBoolean();
  private final ScheduledExecutorService ticker =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("lovage-process-pool").daemon(true).factory());
  private final Thread shutdownHook =
      Thread.ofPlatform().name("lovage-process-pool-exit").unstarted(this::onJvmExit);
  private final Child.Listener listener =
      new Child.Listener() {
        @Override
        public void finished(Child child) {
          ProcessPool.this.finished(child, true);
        }

        @Override
        public void exited(Child child, ChildTask task, int exitCode) {
          ProcessPool.this.exited(child, task, exitCode);
        }
      };

  /**
   * @param shutdownGrace what running tasks get when the JVM exits before the pool is closed
   * @param tasks the tasks that run in this pool: a child that lacks one is named in the log
   */
  public ProcessPool(ProcessPoolSettings settings, Duration shutdownGrace, Set<String> tasks) {
    this.settings = settings;
    this.shutdownGrace = shutdownGrace;
    this.tasks = Set.copyOf(tasks);
    this.command = command(settings);
  }

  /** {@code java -Dlovage.child=true [options] -cp <this JVM's classpath> ChildMain [modules]}. */
  static List<String> command(ProcessPoolSettings settings) {
    List<String> command = new ArrayList<>();
    command.add(
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.add(ChildMain.MARKER);
    command.addAll(settings.jvmOptions());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(ChildMain.class.getName());
    command.addAll(settings.taskModules());
    return command;
  }

  /**
   * Starts the minimum number of children and waits for them, so a pool that cannot start a child
   * (a missing class, a bad JVM option) fails here rather than at its first task.
   */
  public void open() {
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    List<Child> started = new ArrayList<>();
    try {
      List<CompletableFuture<Child>> launches = new ArrayList<>();
      lock.lock();
      try {
        starting += settings.min();
      } finally {
        lock.unlock();
      }
      for (int i = 0; i < settings.min(); i++) {
        launches.add(launchInBackground());
      }
      for (CompletableFuture<Child> launch : launches) {
        started.add(launch.join());
      }
    } catch (RuntimeException e) {
      close();
      throw new IllegalStateException(
          "process pool not started: " + rootCause(e).getMessage(), rootCause(e));
    }
    ticker.scheduleWithFixedDelay(
        this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    log.info(
        "process pool started children={} min={} max={} max_tasks_per_child={}"
            + " max_memory_per_child={}",
        started.size(),
        settings.min(),
        settings.max(),
        settings.maxTasksPerChild(),
        settings.maxMemoryPerChild());
  }

  /**
   * Gives the task to an idle child, starting one if none is idle and the pool is below its
   * maximum, else waits for one.
   *
   * @param started called once the task has a child, before it is sent, with how to terminate it
   *     (revocation): kill its child
   * @throws InterruptedException when the pool closes (or the thread is interrupted) before the
   *     task had a child: the task was not started
   */
  public ChildTask submit(
      TaskMessage message, Consumer<Runnable> started, TaskCall.Progress progress)
      throws InterruptedException {
    Child child;
    try {
      child = acquire();
    } catch (ChildStartException e) {
      log.error("no child process for task task_id={} error={}", message.id(), e.getMessage());
      return ChildTask.failed(
          message, new WorkerLostError("no child process to run the task: " + e.getMessage()));
    }
    ChildTask task = new ChildTask(child, message, progress);
    try {
      started.accept(task::terminate);
    } catch (RuntimeException e) {
      finished(child, false);
      task.fail(e);
      return task;
    }
    child.run(task);
    return task;
  }

  private Child acquire() throws InterruptedException, ChildStartException {
    lock.lock();
    try {
      waiting++;
      while (true) {
        if (closing) {
          throw new InterruptedException("process pool closing: task not started");
        }
        Child child = idle.pollFirst();
        if (child != null) {
          child.state = State.BUSY;
          busy++;
          return child;
        }
        // More tasks wait than children are on their way: start one more, and take it.
        if (live + starting < settings.max() && starting < waiting) {
          starting++;
          lock.unlock();
          Child launched = null;
          try {
            launched = launch();
          } finally {
            lock.lock();
            starting--;
            changed.signalAll();
          }
          if (launched.state == State.GONE || closing) {
            boolean wasClosing = closing;
            lock.unlock();
            try {
              launched.stop();
            } finally {
              lock.lock();
            }
            if (wasClosing) {
              throw new InterruptedException("process pool closing: task not started");
            }
            throw new ChildStartException(
                "child process pid=" + launched.pid() + " exited as it started", null);
          }
          launched.state = State.BUSY;
          live++;
          busy++;
          return launched;
        }
        changed.await();
      }
    } finally {
      waiting--;
      lock.unlock();
    }
  }

  /** Starts a child and waits until it is ready; the caller counted it in {@code starting}. */
  private Child launch() throws InterruptedException, ChildStartException {
    long begin = System.nanoTime();
    Child child;
    try {
      child = Child.start(command, listener);
    } catch (IOException e) {
      throw new ChildStartException("child process not started: " + e.getMessage(), e);
    }
    lock.lock();
    try {
      if (child.state != State.GONE) { // else it exited already, see exited()
        processes.add(child);
      }
    } finally {
      lock.unlock();
    }
    Ready ready = child.awaitReady(START_TIMEOUT);
    Set<String> missing = new LinkedHashSet<>(tasks);
    ready.tasks().forEach(missing::remove);
    if (!missing.isEmpty() && missingTasksLogged.compareAndSet(false, true)) {
      log.error(
          "tasks of the process pool unknown to its children, they will fail with NotRegistered:"
              + " register them in a TaskModule with a public no-argument constructor, listed in"
              + " META-INF/services/io.lovage.TaskModule, tasks={}",
          missing);
    }
    log.info(
        "child process started pid={} startup_ms={}",
        child.pid(),
        (System.nanoTime() - begin) / 1_000_000);
    return child;
  }

  /** A child for the minimum, started on its own thread; counted in {@code starting} already. */
  private CompletableFuture<Child> launchInBackground() {
    CompletableFuture<Child> result = new CompletableFuture<>();
    Thread.ofVirtual()
        .name("lovage-child-start")
        .start(
            () -> {
              Child child = null;
              Exception error = null;
              try {
                child = launch();
              } catch (InterruptedException | ChildStartException e) {
                error = e;
              }
              boolean unused = child != null;
              lock.lock();
              try {
                starting--;
                // Not above max: resize may have lowered it while this child started.
                if (child != null
                    && child.state != State.GONE
                    && !closing
                    && live < settings.max()) {
                  child.state = State.IDLE;
                  child.idleSinceNanos = System.nanoTime();
                  idle.addFirst(child);
                  live++;
                  unused = false;
                }
                changed.signalAll();
              } finally {
                lock.unlock();
              }
              if (unused) {
                child.stop();
              }
              if (error != null) {
                result.completeExceptionally(error);
              } else {
                result.complete(child);
              }
            });
    return result;
  }

  /**
   * The child is free again: back to the idle ones, or replaced when it is due, or stopped when the
   * pool is above its max (lowered by {@link #resize} while it ran its task).
   */
  private void finished(Child child, boolean ranTask) {
    String recycle = ranTask ? recycleReason(child) : null;
    boolean stop = false;
    boolean aboveMax = false;
    lock.lock();
    try {
      if (child.state != State.BUSY) {
        return;
      }
      busy--;
      aboveMax = live > settings.max();
      if (closing || recycle != null || aboveMax) {
        retire(child);
        stop = true;
      } else {
        child.state = State.IDLE;
        child.idleSinceNanos = System.nanoTime();
        idle.addFirst(child);
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (recycle != null) {
      log.info(
          "child process recycled pid={} tasks={} reason=\"{}\"",
          child.pid(),
          child.tasksRun(),
          recycle);
    } else if (aboveMax && !closing) {
      log.info(
          "child process stopped after its task: the pool is above its max pid={} max={}",
          child.pid(),
          settings.max());
    }
    if (stop) {
      child.stop();
      topUp();
    }
  }

  private String recycleReason(Child child) {
    if (child.exiting()) {
      return "it exits after its task's error";
    }
    int maxTasks = settings.maxTasksPerChild();
    if (maxTasks > 0 && child.tasksRun() >= maxTasks) {
      return "ran max_tasks_per_child=" + maxTasks + " tasks";
    }
    long maxMemory = settings.maxMemoryPerChild();
    if (maxMemory > 0) {
      OptionalLong resident = child.residentBytes();
      if (resident.isPresent() && resident.getAsLong() > maxMemory) {
        return "resident memory "
            + resident.getAsLong()
            + " bytes above max_memory_per_child="
            + maxMemory;
      }
    }
    return null;
  }

  /** Under the lock: the child leaves the pool and will be told to exit. */
  private void retire(Child child) {
    if (child.state == State.IDLE) {
      idle.remove(child);
    }
    if (child.state == State.IDLE || child.state == State.BUSY) {
      live--;
    }
    child.state = State.RETIRED;
  }

  private void exited(Child child, ChildTask task, int exitCode) {
    lock.lock();
    try {
      processes.remove(child);
      if (child.state == State.BUSY) {
        busy--;
      }
      if (child.state == State.IDLE || child.state == State.BUSY) {
        idle.remove(child);
        live--;
        if (task == null && !closing) {
          log.warn("idle child process exited pid={} exit_code={}", child.pid(), exitCode);
        }
      }
      child.state = State.GONE;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    // Killed at shutdown, its task is not lost but abandoned: the worker requeues it.
    if (task != null && !killing) {
      task.lost(child.pid(), exitCode);
    }
    topUp();
  }

  /** Starts children in the background while the pool is below its minimum. */
  private void topUp() {
    int missing;
    lock.lock();
    try {
      missing = closing ? 0 : Math.max(0, settings.min() - live - starting);
      starting += missing;
    } finally {
      lock.unlock();
    }
    for (int i = 0; i < missing; i++) {
      launchInBackground()
          .exceptionally(
              e -> {
                if (!killing) {
                  log.error("child process not started error={}", rootCause(e).getMessage());
                }
                return null;
              });
    }
  }

  /** Every second: stops the children idle too long, above the minimum. */
  private void tick() {
    List<Child> stopped = new ArrayList<>();
    lock.lock();
    try {
      long now = System.nanoTime();
      while (live > settings.min()
          && !idle.isEmpty()
          && now - idle.peekLast().idleSinceNanos > settings.idleTimeout().toNanos()) {
        Child child = idle.peekLast();
        retire(child);
        stopped.add(child);
      }
    } finally {
      lock.unlock();
    }
    for (Child child : stopped) {
      log.info("child process stopped after idling pid={} tasks={}", child.pid(), child.tasksRun());
      child.stop();
    }
    topUp();
  }

  /**
   * How many children the pool keeps at least and runs at most.
   *
   * @param min children kept running even when idle
   * @param max children at most: tasks of the pool running at once
   */
  public record Bounds(int min, int max) {
    @Override
    public String toString() {
      return "min=" + min + " max=" + max;
    }
  }

  /** The bounds now: those of the settings, or the last {@link #resize}. */
  public Bounds bounds() {
    ProcessPoolSettings now = settings;
    return new Bounds(now.min(), now.max());
  }

  /**
   * Changes the bounds while the pool runs, computed from the current ones under the pool's lock
   * (two resizes at once do not lose one). Then, without killing a running task: idle children
   * above the new max exit now, and so do idle children above a lowered min (the caller asked for
   * fewer); busy children above the new max exit when their task has finished; children start now
   * up to a raised min, and tasks waiting for a child may start more up to a raised max.
   *
   * <pre>{@code
   * pool.resize(b -> new ProcessPool.Bounds(b.min() + 2, Math.max(b.max(), b.min() + 2)));
   * }</pre>
   *
   * @return the new bounds
   * @throws IllegalArgumentException when {@code change} refuses, or its bounds are not {@code 0 <=
   *     min <= max} with {@code max >= 1}; the pool is then unchanged
   * @throws IllegalStateException when the pool is closing
   */
  public Bounds resize(java.util.function.UnaryOperator<Bounds> change) {
    List<Child> stopped = new ArrayList<>();
    Bounds before;
    Bounds after;
    lock.lock();
    try {
      if (closing) {
        throw new IllegalStateException("the process pool is closing");
      }
      before = new Bounds(settings.min(), settings.max());
      after = change.apply(before);
      settings = settings.withChildren(after.min(), after.max());
      int keep = after.min() < before.min() ? after.min() : after.max();
      while (live > keep && !idle.isEmpty()) {
        Child child = idle.peekLast(); // the longest idle
        retire(child);
        stopped.add(child);
      }
      changed.signalAll(); // a task waiting for a child may start one below a raised max
    } finally {
      lock.unlock();
    }
    log.info("process pool resized from {} to {} stopping_idle={}", before, after, stopped.size());
    for (Child child : stopped) {
      log.info("child process stopped by resize pid={} tasks={}", child.pid(), child.tasksRun());
      child.stop();
    }
    topUp();
    return after;
  }

  /** The process ids of the children alive and counted by the pool (idle or running a task). */
  public List<Long> pids() {
    lock.lock();
    try {
      return processes.stream()
          .filter(child -> child.state == State.IDLE || child.state == State.BUSY)
          .map(Child::pid)
          .sorted()
          .toList();
    } finally {
      lock.unlock();
    }
  }

  /** Tasks waiting for a child now: none idle, and the pool at its max or starting one. */
  public int waiting() {
    lock.lock();
    try {
      return waiting;
    } finally {
      lock.unlock();
    }
  }

  /** Children alive and counted by the pool: idle or running a task. */
  public int children() {
    lock.lock();
    try {
      return live;
    } finally {
      lock.unlock();
    }
  }

  /** Tasks running in children now. */
  public int active() {
    lock.lock();
    try {
      return busy;
    } finally {
      lock.unlock();
    }
  }

  /**
   * From now on no task starts: tasks waiting for a child are not started, idle children exit, busy
   * ones exit when their task has finished.
   */
  public void drain() {
    List<Child> stopped;
    lock.lock();
    try {
      closing = true;
      stopped = new ArrayList<>(idle);
      stopped.forEach(this::retire);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    stopped.forEach(Child::stop);
  }

  /**
   * Kills the children still running a task (their tasks are abandoned: the worker requeues them),
   * gives those told to exit a moment to do so, and waits until every child is gone.
   */
  @Override
  public void close() {
    drain();
    killing = true;
    ticker.shutdownNow();
    List<Child> left;
    lock.lock();
    try {
      left = new ArrayList<>(processes);
      for (Child child : left) {
        if (child.state == State.BUSY) {
          log.warn("killing child process at shutdown, its task is requeued pid={}", child.pid());
        } else if (child.state != State.RETIRED) {
          log.info("killing child process at shutdown pid={} state={}", child.pid(), child.state);
        }
        if (child.state != State.RETIRED) {
          child.kill();
        }
      }
    } finally {
      lock.unlock();
    }
    for (Child child : left) {
      try {
        child.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        left.forEach(Child::kill);
        break;
      } catch (Exception e) {
        log.warn("child process did not exit when asked, killing it pid={}", child.pid());
        child.kill();
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // The JVM is exiting (this may be the hook itself), or the pool was never opened.
    }
  }

  /**
   * The JVM exits: the worker's own close (Micronaut runs it on SIGTERM, at the same time as this
   * hook) lets running tasks finish within the shutdown grace, so this waits as long before it
   * kills what is left.
   */
  private void onJvmExit() {
    long deadline = System.nanoTime() + shutdownGrace.toNanos();
    lock.lock();
    try {
      while (!killing && busy > 0 && System.nanoTime() < deadline) {
        changed.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      lock.unlock();
    }
    close();
  }

  private static Throwable rootCause(Throwable e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    return cause;
  }
}
