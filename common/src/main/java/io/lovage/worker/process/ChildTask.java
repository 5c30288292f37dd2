package io.lovage.worker.process;

import io.lovage.TaskCall;
import io.lovage.TaskError;
import io.lovage.WorkerLostError;
import io.lovage.protocol.TaskMessage;
import io.lovage.worker.process.Frames.Retry;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * A task given to a child process, as the worker sees it: its value comes back from the child, and
 * the worker can interrupt it (a frame: the child interrupts the task's thread) or kill it (the
 * whole child process).
 */
public final class ChildTask {
  private static final Logger log = LoggerFactory.getLogger(ChildTask.class);

  private final Child child;
  private final TaskMessage message;
  private final TaskCall.Progress progress;
  private final CompletableFuture<Object> value = new CompletableFuture<>();
  private boolean sent;
  private boolean interruptAsked;
  private volatile String killedFor;

  ChildTask(Child child, TaskMessage message, TaskCall.Progress progress) {
    this.child = child;
    this.message = message;
    this.progress = progress;
  }

  /** A task that never reached a child: its value is this error. */
  static ChildTask failed(TaskMessage message, Throwable error) {
    ChildTask task = new ChildTask(null, message, (done, total) -> {});
    task.value.completeExceptionally(error);
    return task;
  }

  /**
   * The task's result as JSON, or its error: {@link ChildTaskFailed}, a {@link
   * io.lovage.RetryRequest} around one, or {@link WorkerLostError} when the child died.
   */
  public CompletableFuture<Object> value() {
    return value;
  }

  /** Interrupts the task's thread in the child (soft time limit, revocation). */
  public void interrupt() {
    synchronized (this) {
      interruptAsked = true;
      if (!sent || child == null) {
        return; // sent right after the task, see sent()
      }
    }
    child.interrupt(id());
  }

  /** Kills the child process running the task (hard time limit); the pool replaces it. */
  public void kill() {
    kill("the task's hard time limit");
  }

  /**
   * Kills the child process running the task, which was revoked with terminate: as Celery's
   * terminate signals the pool process, also a task that ignores interruption stops.
   */
  public void terminate() {
    kill("the task was revoked with terminate");
  }

  private void kill(String why) {
    killedFor = why;
    if (child != null) {
      log.warn(
          "killing child process pid={} task_id={} task={} reason=\"{}\"",
          child.pid(),
          id(),
          message.task(),
          why);
      child.kill();
    }
  }

  String id() {
    return message.id();
  }

  TaskMessage message() {
    return message;
  }

  void sent() {
    synchronized (this) {
      sent = true;
      if (!interruptAsked) {
        return;
      }
    }
    child.interrupt(id());
  }

  void progress(long done, long total) {
    try {
      progress.report(done, total);
    } catch (RuntimeException e) {
      log.warn("progress not reported task_id={} error={}", id(), e.toString());
    }
  }

  void succeed(JsonNode result) {
    value.complete(result);
  }

  /** What the task threw, rebuilt for the worker's retry rules. */
  void fail(TaskError error, Retry retry) {
    Throwable thrown = new ChildTaskFailed(error);
    if (retry != null) {
      Duration countdown =
          retry.countdownMillis() == null ? null : Duration.ofMillis(retry.countdownMillis());
      thrown = new TaskCall(message).retry(thrown, countdown);
    }
    value.completeExceptionally(thrown);
  }

  void fail(Throwable error) {
    value.completeExceptionally(error);
  }

  /** The child died under the task. */
  void lost(long pid, int exitCode) {
    if (killedFor != null) {
      value.completeExceptionally(
          new WorkerLostError("child process pid=" + pid + " killed: " + killedFor));
      return;
    }
    log.error(
        "child process died running a task pid={} exit_code={} task_id={} task={}",
        pid,
        exitCode,
        id(),
        message.task());
    value.completeExceptionally(
        new WorkerLostError(
            "child process pid="
                + pid
                + " exited with code "
                + exitCode
                + " while running task "
                + message.task()
                + "["
                + id()
                + "]"));
  }
}
