package io.lovage;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The states of a task, with Celery's names, and the one table of moves allowed between them.
 *
 * <p>Events about a task can arrive late or twice (a redelivered message runs again); a state only
 * moves along this table, so a late STARTED never hides a SUCCESS.
 */
public enum TaskState {
  PENDING,
  RECEIVED,
  STARTED,
  RETRY,
  SUCCESS,
  FAILURE,
  REVOKED,
  REJECTED;

  private static final Map<TaskState, Set<TaskState>> ALLOWED =
      Map.of(
          PENDING, EnumSet.of(RECEIVED, STARTED, RETRY, SUCCESS, FAILURE, REVOKED, REJECTED),
          RECEIVED, EnumSet.of(STARTED, RETRY, SUCCESS, FAILURE, REVOKED, REJECTED),
          // A worker that died after STARTED has its message redelivered: STARTED again is allowed.
          STARTED, EnumSet.of(STARTED, RETRY, SUCCESS, FAILURE, REVOKED, REJECTED),
          RETRY, EnumSet.of(RECEIVED, STARTED, RETRY, SUCCESS, FAILURE, REVOKED, REJECTED),
          SUCCESS, EnumSet.noneOf(TaskState.class),
          FAILURE, EnumSet.noneOf(TaskState.class),
          REVOKED, EnumSet.noneOf(TaskState.class),
          REJECTED, EnumSet.noneOf(TaskState.class));

  /** Whether a task in this state may move to {@code next}. */
  public boolean canMoveTo(TaskState next) {
    return ALLOWED.get(this).contains(next);
  }

  /** SUCCESS, FAILURE, REVOKED and REJECTED are final: nothing follows them. */
  public boolean isFinal() {
    return ALLOWED.get(this).isEmpty();
  }
}
