package io.lovage.workflow;

import io.lovage.TaskError;
import io.lovage.broker.Message;
import io.lovage.protocol.Json;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Header results of one chord, as a message of the chord queue: one header task's outcome (what its
 * worker publishes), or many (what the joining worker folds them into to hold fewer messages).
 * Every such message carries what the join needs, the chord's size and body, so that the join state
 * lives in RabbitMQ only and any worker can take it over.
 *
 * <p>On the wire: {@code {"chord", "size", "body", "root_id", "queue", "results": {"<index>":
 * result}, "failure": null | {"index", "task_id", "error"}}}.
 *
 * @param chord the chord's group id
 * @param size how many header tasks the chord has
 * @param body the body's signature dict (its {@code task_id} is fixed when the chord is created)
 * @param rootId the workflow's root task id, for the body's {@code root_id}
 * @param queue where the body goes when its signature names no queue
 * @param results header results by index
 * @param failure the first header task that failed for good or was revoked, or null
 */
public record ChordParts(
    String chord,
    int size,
    JsonNode body,
    String rootId,
    String queue,
    Map<Integer, JsonNode> results,
    Failure failure) {

  /** A header task that did not succeed: the chord fails with {@code ChordError} naming it. */
  public record Failure(int index, String taskId, TaskError error) {}

  public ChordParts {
    results = Map.copyOf(new TreeMap<>(results));
  }

  /** One more header outcome, or several, in this chord's state; the first failure is kept. */
  public ChordParts merge(ChordParts other) {
    TreeMap<Integer, JsonNode> merged = new TreeMap<>(results);
    merged.putAll(other.results);
    return new ChordParts(
        chord, size, body, rootId, queue, merged, failure != null ? failure : other.failure);
  }

  /** Every header task succeeded. */
  public boolean complete() {
    return results.size() >= size;
  }

  /** The body can be sent, or failed: all results are in, or one header task failed. */
  public boolean decided() {
    return failure != null || complete();
  }

  /** The header results in header order: the body's first argument. */
  public JsonNode orderedResults() {
    var list = Json.MAPPER.createArrayNode();
    for (int i = 0; i < size; i++) {
      list.add(results.getOrDefault(i, Json.MAPPER.nullNode()));
    }
    return list;
  }

  /**
   * Celery's {@code ChordError("Dependency <id> raised <Type>('<message>')")}: why the body fails.
   */
  public TaskError chordError() {
    TaskError cause = failure.error();
    return new TaskError(
        "ChordError",
        "celery.exceptions",
        "Dependency "
            + failure.taskId()
            + " raised "
            + cause.type()
            + "('"
            + (cause.message() == null ? "" : cause.message())
            + "')",
        cause.traceback());
  }

  public Message toMessage() {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("chord", chord);
    json.put("size", size);
    json.set("body", body);
    json.put("root_id", rootId);
    json.put("queue", queue);
    ObjectNode byIndex = json.putObject("results");
    results.forEach((index, result) -> byIndex.set(String.valueOf(index), result));
    if (failure == null) {
      json.putNull("failure");
    } else {
      ObjectNode failed = json.putObject("failure");
      failed.put("index", failure.index());
      failed.put("task_id", failure.taskId());
      failed.set("error", Json.MAPPER.valueToTree(failure.error()));
    }
    return new Message(
        Json.MAPPER.writeValueAsBytes(json),
        Map.of(),
        "application/json",
        "utf-8",
        chord,
        null,
        0,
        true);
  }

  /** Reads a chord queue message; an {@link IllegalArgumentException} says what is wrong. */
  public static ChordParts fromMessage(Message message) {
    JsonNode json;
    try {
      json = Json.MAPPER.readTree(message.body());
    } catch (JacksonException e) {
      throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
    }
    String chord = json.path("chord").asString(null);
    int size = json.path("size").asInt(-1);
    if (chord == null || size < 0 || !json.path("body").isObject()) {
      throw new IllegalArgumentException("a chord part needs 'chord', 'size' and 'body'");
    }
    TreeMap<Integer, JsonNode> results = new TreeMap<>();
    json.path("results")
        .properties()
        .forEach(entry -> results.put(Integer.parseInt(entry.getKey()), entry.getValue()));
    JsonNode failed = json.path("failure");
    Failure failure =
        failed.isObject()
            ? new Failure(
                failed.path("index").asInt(),
                failed.path("task_id").asString(null),
                Json.MAPPER.treeToValue(failed.path("error"), TaskError.class))
            : null;
    return new ChordParts(
        chord,
        size,
        json.get("body"),
        json.path("root_id").asString(null),
        json.path("queue").asString(null),
        results,
        failure);
  }
}
