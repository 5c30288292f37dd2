package io.lovage.result;

import io.lovage.TaskState;
import java.util.Map;
import java.util.Optional;

/**
 * The task events Lovage sends, with Celery's names ({@code task-sent}, {@code task-started}, …)
 * and the state each one means. The routing key of an event is its type with dots: {@code
 * task.succeeded}.
 */
public enum TaskEvent {
  SENT("task-sent", TaskState.PENDING),
  RECEIVED("task-received", TaskState.RECEIVED),
  STARTED("task-started", TaskState.STARTED),
  SUCCEEDED("task-succeeded", TaskState.SUCCESS),
  FAILED("task-failed", TaskState.FAILURE),
  RETRIED("task-retried", TaskState.RETRY),
  REVOKED("task-revoked", TaskState.REVOKED),
  REJECTED("task-rejected", TaskState.REJECTED),
  /** Lovage's own: a running task reported how far it is. */
  PROGRESS("task-progress", TaskState.STARTED),
  /** Lovage's own: a dead letter sent back to its queue; the task starts over. */
  REPLAYED("task-replayed", TaskState.PENDING);

  private static final Map<String, TaskEvent> BY_TYPE =
      Map.of(
          SENT.type, SENT,
          RECEIVED.type, RECEIVED,
          STARTED.type, STARTED,
          SUCCEEDED.type, SUCCEEDED,
          FAILED.type, FAILED,
          RETRIED.type, RETRIED,
          REVOKED.type, REVOKED,
          REJECTED.type, REJECTED,
          REPLAYED.type, REPLAYED,
          PROGRESS.type, PROGRESS);

  private final String type;
  private final TaskState state;

  TaskEvent(String type, TaskState state) {
    this.type = type;
    this.state = state;
  }

  public String type() {
    return type;
  }

  /**
   * Celery's routing key of an event type, task or worker: {@code task-sent} → {@code task.sent}.
   */
  public static String routingKey(String type) {
    return type.replace('-', '.');
  }

  public TaskState state() {
    return state;
  }

  public static Optional<TaskEvent> ofType(String type) {
    return Optional.ofNullable(BY_TYPE.get(type));
  }
}
