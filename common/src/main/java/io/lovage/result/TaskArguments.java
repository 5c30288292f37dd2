package io.lovage.result;

import io.lovage.protocol.Json;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A task's arguments as task events carry them: the JSON text of its args and of its kwargs, each
 * cut at {@link #MAX_CHARS} characters, as Celery's events carry a repr cut at 1024. Only whole
 * arguments ({@link #truncated()} false) can be read back to send the task again ({@link #args()}).
 *
 * <p>In an event (task-sent and task-received) they are {@code "args_json"} and {@code
 * "kwargs_json"}, strings beside Celery's {@code args} and {@code kwargs} reprs, and {@code
 * "args_truncated": true} when either was cut.
 *
 * @param argsJson the JSON text of the positional arguments, possibly cut
 * @param kwargsJson the JSON text of the keyword arguments, possibly cut
 * @param truncated whether either text was longer than {@link #MAX_CHARS} and was cut
 */
public record TaskArguments(String argsJson, String kwargsJson, boolean truncated) {
  /** The longest text kept of args and of kwargs, each. */
  public static final int MAX_CHARS = 1024;

  static final String ARGS_FIELD = "args_json";
  static final String KWARGS_FIELD = "kwargs_json";
  static final String TRUNCATED_FIELD = "args_truncated";

  public TaskArguments {
    argsJson = argsJson == null ? "[]" : argsJson;
    kwargsJson = kwargsJson == null ? "{}" : kwargsJson;
  }

  /** The arguments of a task message, each cut at {@link #MAX_CHARS}. */
  public static TaskArguments of(JsonNode args, JsonNode kwargs) {
    String a = Json.MAPPER.writeValueAsString(args);
    String k = Json.MAPPER.writeValueAsString(kwargs);
    boolean cut = a.length() > MAX_CHARS || k.length() > MAX_CHARS;
    return new TaskArguments(cut(a), cut(k), cut);
  }

  private static String cut(String text) {
    return text.length() > MAX_CHARS ? text.substring(0, MAX_CHARS) : text;
  }

  /** Adds this to an event's fields. */
  void writeTo(ObjectNode event) {
    event.put(ARGS_FIELD, argsJson);
    event.put(KWARGS_FIELD, kwargsJson);
    if (truncated) {
      event.put(TRUNCATED_FIELD, true);
    }
  }

  /** The arguments an event carries, if it carries them (a Celery client's events do not). */
  static Optional<TaskArguments> from(JsonNode event) {
    if (!event.path(ARGS_FIELD).isString()) {
      return Optional.empty();
    }
    return Optional.of(
        new TaskArguments(
            cut(event.get(ARGS_FIELD).asString()),
            cut(event.path(KWARGS_FIELD).asString("{}")),
            event.path(TRUNCATED_FIELD).asBoolean(false)
                || event.get(ARGS_FIELD).asString().length() > MAX_CHARS
                || event.path(KWARGS_FIELD).asString("").length() > MAX_CHARS));
  }

  /** The positional arguments, when they are whole and JSON; empty when cut. */
  public Optional<ArrayNode> args() {
    return read(argsJson).filter(JsonNode::isArray).map(ArrayNode.class::cast);
  }

  /** The keyword arguments, when they are whole and JSON; empty when cut. */
  public Optional<ObjectNode> kwargs() {
    return read(kwargsJson).filter(JsonNode::isObject).map(ObjectNode.class::cast);
  }

  private Optional<JsonNode> read(String text) {
    if (truncated) {
      return Optional.empty();
    }
    try {
      return Optional.of(Json.MAPPER.readTree(text));
    } catch (JacksonException e) {
      return Optional.empty();
    }
  }
}
