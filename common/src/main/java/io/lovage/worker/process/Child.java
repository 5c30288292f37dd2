package io.lovage.worker.process;

import io.lovage.worker.process.Frames.Failed;
import io.lovage.worker.process.Frames.Frame;
import io.lovage.worker.process.Frames.Interrupt;
import io.lovage.worker.process.Frames.Progress;
import io.lovage.worker.process.Frames.Ready;
import io.lovage.worker.process.Frames.Run;
import io.lovage.worker.process.Frames.Succeeded;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's side of one child process: its pipes, the task it runs now, how it ended. One
 * platform thread per child reads its frames; the {@link Listener} (the pool) hears when the child
 * finished a task or exited.
 */
final class Child {
  private static final Logger log = LoggerFactory.getLogger(Child.class);

  /** Where a child is in its life; changed by the pool only, under its lock. */
  enum State {
    STARTING,
    IDLE,
    BUSY,
    RETIRED,
    GONE
  }

  interface Listener {
    /** The child answered for its task; called before that task's value completes. */
    void finished(Child child);

    /** The child's process ended, while running {@code task} (or null). */
    void exited(Child child, ChildTask task, int exitCode);
  }

  private final Process process;
  private final OutputStream toChild;
  private final DataInputStream fromChild;
  private final Listener listener;
  private final CompletableFuture<Ready> ready = new CompletableFuture<>();
  private ChildTask current;
  private Integer exitCode;
  private volatile int tasksRun;
  private volatile boolean exiting;

  State state = State.STARTING;
  long idleSinceNanos;

  private Child(Process process, Listener listener) {
    this.process = process;
    this.listener = listener;
    this.toChild = new BufferedOutputStream(process.getOutputStream());
    this.fromChild = new DataInputStream(new BufferedInputStream(process.getInputStream()));
  }

  /** Starts the process; its stderr goes to the worker's. */
  static Child start(List<String> command, Listener listener) throws IOException {
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Child child = new Child(process, listener);
    Thread.ofPlatform().daemon(true).name("lovage-child-" + process.pid()).start(child::readFrames);
    return child;
  }

  /** Waits until the child has built its task registry; kills it if that does not happen. */
  Ready awaitReady(Duration timeout) throws InterruptedException, ChildStartException {
    try {
      return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      kill();
      throw new ChildStartException(
          "child process pid=" + pid() + " not ready after " + timeout.toSeconds() + " s", e);
    } catch (ExecutionException e) {
      throw new ChildStartException(e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      kill();
      throw e;
    }
  }

  long pid() {
    return process.pid();
  }

  int tasksRun() {
    return tasksRun;
  }

  /** Whether the child said it exits after its last answer. */
  boolean exiting() {
    return exiting;
  }

  /** Sends the task to the child; a child that died already loses it at once. */
  void run(ChildTask task) {
    Integer exited;
    synchronized (this) {
      exited = exitCode;
      if (exited == null) {
        current = task;
      }
    }
    if (exited != null) {
      task.lost(pid(), exited);
      return;
    }
    send(Run.of(task.message()));
    task.sent();
  }

  void interrupt(String taskId) {
    send(new Interrupt(taskId));
  }

  /** Asks the child to exit: it halts when its stdin ends. */
  void stop() {
    synchronized (toChild) {
      try {
        toChild.close();
      } catch (IOException e) {
        log.debug("stdin of child process pid={} not closed: {}", pid(), e.toString());
      }
    }
  }

  /** Kills the process at once (SIGKILL on Linux). */
  void kill() {
    process.destroyForcibly();
  }

  CompletableFuture<Process> onExit() {
    return process.onExit();
  }

  /** Resident memory from {@code /proc/<pid>/status} (VmRSS), where there is such a file. */
  OptionalLong residentBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).trim().split("\\s+");
          return OptionalLong.of(Long.parseLong(parts[0]) * 1024);
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("resident memory unknown pid={} error={}", pid(), e.toString());
    }
    return OptionalLong.empty();
  }

  private void send(Frame frame) {
    synchronized (toChild) {
      try {
        Frames.write(toChild, Frames.encode(frame));
      } catch (IOException e) {
        // The child is exiting; its reader reports that, and loses its task.
        log.debug("frame not sent to child process pid={} error={}", pid(), e.toString());
      }
    }
  }

  private void readFrames() {
    try {
      Frame frame;
      while ((frame = Frames.read(fromChild)) != null) {
        switch (frame) {
          case Ready r -> ready.complete(r);
          case Progress p -> {
            ChildTask task = taskFor(p.taskId());
            if (task != null) {
              task.progress(p.done(), p.total());
            }
          }
          case Succeeded s -> finish(s.taskId(), false).succeed(s.result());
          case Failed f -> finish(f.taskId(), f.exiting()).fail(f.error(), f.retry());
          default -> throw new IOException("unexpected frame " + frame.getClass().getSimpleName());
        }
      }
    } catch (IOException | RuntimeException e) {
      log.error(
          "child process broke its protocol, killing it pid={} error={}", pid(), e.toString());
      kill();
    }
    int code = exitCodeAfterStdoutClosed();
    ChildTask task;
    synchronized (this) {
      exitCode = code;
      task = current;
      current = null;
    }
    ready.completeExceptionally(
        new ChildStartException(
            "child process pid=" + pid() + " exited with code " + code + " before it was ready",
            null));
    listener.exited(this, task, code);
  }

  private synchronized ChildTask taskFor(String taskId) {
    return current != null && current.id().equals(taskId) ? current : null;
  }

  private ChildTask finish(String taskId, boolean exitsNow) throws IOException {
    ChildTask task;
    synchronized (this) {
      task = taskFor(taskId);
      if (task == null) {
        throw new IOException("answer for task " + taskId + ", which it does not run");
      }
      current = null;
      tasksRun++;
      exiting = exitsNow;
    }
    listener.finished(this);
    return task;
  }

  private int exitCodeAfterStdoutClosed() {
    try {
      if (!process.waitFor(ProcessPool.STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        kill();
      }
      return process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill();
      return -1;
    }
  }
}
