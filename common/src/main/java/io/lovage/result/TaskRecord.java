package io.lovage.result;

import io.lovage.TaskError;
import io.lovage.TaskState;
import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * What is known of one task: its state, and its result or error once it has finished.
 *
 * @param worker the name of the worker that received it last
 * @param progress the last {@code {"done", "total"}} a running task reported, or null
 * @param arguments its args and kwargs as its events carried them (cut when long), or null when no
 *     event carried them
 * @param parentId the task that sent it (a chain's step before, the task whose callback it is), or
 *     null
 * @param rootId the first task of the work it belongs to (Celery's {@code root_id}), or null
 */
public record TaskRecord(
    String id,
    String task,
    TaskState state,
    JsonNode result,
    TaskError error,
    int retries,
    String queue,
    String worker,
    Instant sent,
    Instant received,
    Instant started,
    Instant finished,
    JsonNode progress,
    TaskArguments arguments,
    String parentId,
    String rootId) {

  /** When the last event of this task happened, or null if none carried a time. */
  public Instant lastEvent() {
    // Called for every event a producer reads (expiry), so without a stream's allocations.
    return later(later(sent, received), later(started, finished));
  }

  private static Instant later(Instant a, Instant b) {
    return a == null ? b : b == null || a.isAfter(b) ? a : b;
  }

  public static TaskRecord unknown(String id) {
    return new TaskRecord(
        id,
        null,
        TaskState.PENDING,
        null,
        null,
        0,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null);
  }
}
