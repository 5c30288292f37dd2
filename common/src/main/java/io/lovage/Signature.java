package io.lovage;

import io.lovage.protocol.Json;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A task to call later, as Celery's signature ({@code add.s(2, 3)}): what {@code link} and {@code
 * link_error} carry. On the wire it is Celery's signature object, in the message's embed {@code
 * callbacks} and {@code errbacks}.
 *
 * @param queue where to send it, or null for the queue of the task it is linked to
 * @param immutable when true, the parent's result (or id) is not added to its arguments
 */
public record Signature(
    String task, ArrayNode args, ObjectNode kwargs, String queue, boolean immutable)
    implements Canvas {

  public Signature {
    if (task == null || task.isBlank()) {
      throw new IllegalArgumentException("a signature needs a task name");
    }
    args = args == null ? Json.MAPPER.createArrayNode() : args;
    kwargs = kwargs == null ? Json.MAPPER.createObjectNode() : kwargs;
  }

  /** {@code Signature.of("demo.add", 10)}: a callback that gets the result as first argument. */
  public static Signature of(String task, Object... args) {
    return new Signature(task, Json.MAPPER.valueToTree(args), null, null, false);
  }

  public Signature withKwargs(Map<String, ?> values) {
    return new Signature(task, args, Json.MAPPER.valueToTree(values), queue, immutable);
  }

  public Signature toQueue(String name) {
    return new Signature(task, args, kwargs, name, immutable);
  }

  /** Celery's {@code si()}: called with exactly its own arguments. */
  public Signature asImmutable() {
    return new Signature(task, args, kwargs, queue, true);
  }

  /**
   * Celery's {@code sig.map(items)}: one task, {@code celery.map}, that runs this one per item (the
   * item as its one argument) and answers the list of results.
   */
  public Signature map(List<?> items) {
    return builtin("celery.map", items);
  }

  /**
   * Celery's {@code sig.starmap(items)}: runs this task once per list of arguments, in one task,
   * {@code celery.starmap}, whose result is the list of results.
   */
  public Signature starmap(List<? extends List<?>> items) {
    return builtin("celery.starmap", items);
  }

  /**
   * Celery's {@code sig.chunks(items, n)}: the argument lists in chunks of {@code n}, one {@code
   * celery.starmap} task per chunk, as a group: its result is the list of the chunks' lists.
   */
  public Group chunks(List<? extends List<?>> items, int n) {
    if (n <= 0) {
      throw new IllegalArgumentException("chunks of " + n + " items");
    }
    List<Canvas> parts = new java.util.ArrayList<>();
    for (int from = 0; from < items.size(); from += n) {
      parts.add(starmap(items.subList(from, Math.min(items.size(), from + n))));
    }
    return new Group(parts);
  }

  private Signature builtin(String name, List<?> items) {
    ObjectNode builtinKwargs = Json.MAPPER.createObjectNode();
    builtinKwargs.set("task", toJson());
    builtinKwargs.set("it", Json.MAPPER.valueToTree(items));
    return new Signature(name, null, builtinKwargs, queue, false);
  }

  /** Celery's signature dict. */
  @Override
  public ObjectNode toJson() {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("task", task);
    json.set("args", args);
    json.set("kwargs", kwargs);
    ObjectNode options = json.putObject("options");
    if (queue != null) {
      options.put("queue", queue);
    }
    json.putNull("subtask_type");
    json.put("immutable", immutable);
    json.putNull("chord_size");
    return json;
  }

  /**
   * Reads Celery's signature dict; {@code options.queue} or {@code options.routing_key} routes it.
   */
  public static Signature fromJson(JsonNode json) {
    JsonNode options = json.path("options");
    String queue = options.path("queue").asString(options.path("routing_key").asString(null));
    return new Signature(
        json.path("task").asString(null),
        json.path("args").isArray() ? (ArrayNode) json.get("args") : null,
        json.path("kwargs").isObject() ? (ObjectNode) json.get("kwargs") : null,
        queue,
        json.path("immutable").asBoolean(false));
  }

  /** The signatures in an embed list ({@code callbacks} or {@code errbacks}), if any. */
  public static List<Signature> listIn(JsonNode embed, String key) {
    JsonNode list = embed == null ? null : embed.get(key);
    if (list == null || !list.isArray()) {
      return List.of();
    }
    return list.valueStream().filter(JsonNode::isObject).map(Signature::fromJson).toList();
  }
}
