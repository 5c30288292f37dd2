package io.lovage.result;

import io.lovage.TaskError;
import io.lovage.TaskState;
import java.time.Instant;
import java.util.Objects;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;

/**
 * What is known of one task: its state, and its result or error once it has finished.
 *
 * @param worker the name of the worker that received it last
 * @param progress the last {@code {"done", "total"}} a running task reported, or null
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
    JsonNode progress) {

  /** When the last event of this task happened, or null if none carried a time. */
  public Instant lastEvent() {
    return Stream.of(sent, received, started, finished)
        .filter(Objects::nonNull)
        .max(Instant::compareTo)
        .orElse(null);
  }

  public static TaskRecord unknown(String id) {
    return new TaskRecord(
        id, null, TaskState.PENDING, null, null, 0, null, null, null, null, null, null, null);
  }
}
