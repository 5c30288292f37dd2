package io.lovage;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TaskStateTest {

  @Test
  void finalStatesAllowNoFurtherMove() {
    for (TaskState end :
        new TaskState[] {
          TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED, TaskState.REJECTED
        }) {
      assertTrue(end.isFinal(), end.name());
      for (TaskState next : TaskState.values()) {
        assertFalse(end.canMoveTo(next), end + " -> " + next);
      }
    }
  }

  @Test
  void aTaskMovesFromPendingThroughStartedToAnOutcome() {
    assertTrue(TaskState.PENDING.canMoveTo(TaskState.RECEIVED));
    assertTrue(TaskState.RECEIVED.canMoveTo(TaskState.STARTED));
    assertTrue(TaskState.STARTED.canMoveTo(TaskState.SUCCESS));
    assertTrue(TaskState.STARTED.canMoveTo(TaskState.FAILURE));
    assertTrue(TaskState.STARTED.canMoveTo(TaskState.RETRY));
  }

  @Test
  void aStartedTaskNeverGoesBackToPendingOrReceived() {
    assertFalse(TaskState.STARTED.canMoveTo(TaskState.PENDING));
    assertFalse(TaskState.STARTED.canMoveTo(TaskState.RECEIVED));
  }
}
