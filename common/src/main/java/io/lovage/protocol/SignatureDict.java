package io.lovage.protocol;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Celery's signature dict, the unit of its canvas on the wire: {@code {"task", "args", "kwargs",
 * "options", "subtask_type", "immutable"}}. A plain task has {@code subtask_type} null; a {@code
 * chain} or {@code group} holds its signatures in {@code kwargs.tasks}, a {@code chord} in {@code
 * kwargs.header} and {@code kwargs.body}. {@code options} carries the frozen {@code task_id},
 * {@code reply_to}, {@code queue} and the other options of {@code apply_async}.
 */
public final class SignatureDict {
  public static final String CHAIN = "chain";
  public static final String GROUP = "group";
  public static final String CHORD = "chord";

  private SignatureDict() {}

  /**
   * What kind of canvas it is: {@value #CHAIN}, {@value #GROUP}, {@value #CHORD}, or null for a
   * task (Celery's {@code xmap}, {@code xstarmap} and {@code chunks} are tasks of their own, {@code
   * celery.map}, …). Read from {@code subtask_type}, else from the task name {@code celery.chain}
   * and its kind.
   */
  public static String kind(JsonNode signature) {
    String type = signature.path("subtask_type").asString(null);
    if (type == null) {
      type =
          switch (signature.path("task").asString("")) {
            case "celery.chain" -> CHAIN;
            case "celery.group" -> GROUP;
            case "celery.chord" -> CHORD;
            default -> null;
          };
    }
    return CHAIN.equals(type) || GROUP.equals(type) || CHORD.equals(type) ? type : null;
  }

  /** The signatures of a chain or group, in order. */
  public static List<JsonNode> tasks(JsonNode signature) {
    return list(signature.path("kwargs").path("tasks"));
  }

  /** A chord's header signatures, in order. */
  public static List<JsonNode> header(JsonNode signature) {
    return list(signature.path("kwargs").path("header"));
  }

  /** A chord's body signature. */
  public static JsonNode body(JsonNode signature) {
    return signature.path("kwargs").path("body");
  }

  /** The first task a canvas runs: itself, or the first task of a chain. */
  public static JsonNode firstTask(JsonNode signature) {
    if (CHAIN.equals(kind(signature))) {
      List<JsonNode> tasks = tasks(signature);
      return tasks.isEmpty() ? signature : firstTask(tasks.getFirst());
    }
    return signature;
  }

  /** Its frozen id ({@code options.task_id}), or null. */
  public static String taskId(JsonNode signature) {
    return signature.path("options").path("task_id").asString(null);
  }

  public static boolean immutable(JsonNode signature) {
    return signature.path("immutable").asBoolean(false);
  }

  /** Where it goes: {@code options.queue}, else {@code options.routing_key}, else null. */
  public static String queue(JsonNode signature) {
    JsonNode options = signature.path("options");
    return options.path("queue").asString(options.path("routing_key").asString(null));
  }

  /**
   * The task message a plain signature stands for: its name, its args with {@code first} before
   * them (unless it is immutable or {@code first} is null), its kwargs, and what its options say
   * (frozen id, {@code reply_to}, countdown or eta, expires, time limits, priority, links, group).
   */
  public static TaskMessage.Builder message(JsonNode signature, JsonNode first, Instant now) {
    String task = signature.path("task").asString(null);
    if (task == null || task.isBlank()) {
      throw new IllegalArgumentException("a signature needs a task name: " + signature);
    }
    ArrayNode args =
        signature.path("args").isArray()
            ? ((ArrayNode) signature.get("args")).deepCopy()
            : Json.MAPPER.createArrayNode();
    if (first != null && !immutable(signature)) {
      args.insert(0, first);
    }
    JsonNode options = signature.path("options");
    TaskMessage.Builder builder =
        TaskMessage.builder(task)
            .args(args)
            .kwargs(
                signature.path("kwargs").isObject()
                    ? ((ObjectNode) signature.get("kwargs")).deepCopy()
                    : null);
    String id = taskId(signature);
    if (id != null) {
      builder.id(id);
    }
    builder.replyTo(options.path("reply_to").asString(null));
    if (options.path("countdown").isNumber()) {
      builder.eta(now.plus(Duration.ofMillis((long) (options.get("countdown").asDouble() * 1000))));
    } else if (options.path("eta").isString()) {
      builder.eta(CeleryTime.parse(options.get("eta").asString()));
    }
    if (options.path("expires").isNumber()) {
      builder.expires(
          now.plus(Duration.ofMillis((long) (options.get("expires").asDouble() * 1000))));
    } else if (options.path("expires").isString()) {
      builder.expires(CeleryTime.parse(options.get("expires").asString()));
    }
    Double soft = number(options.path("soft_time_limit"));
    Double hard = number(options.path("time_limit"));
    if (soft != null || hard != null) {
      builder.timeLimit(new TaskMessage.TimeLimit(soft, hard));
    }
    if (options.path("priority").isInt()) {
      builder.priority(options.get("priority").asInt());
    }
    if (options.path("group_id").isString()) {
      builder.group(options.get("group_id").asString());
    }
    if (options.path("group_index").isInt()) {
      builder.header("group_index", options.get("group_index").asInt());
    }
    if (options.path("ignore_result").asBoolean(false)) {
      builder.ignoreResult(true);
    }
    ObjectNode embed = TaskMessage.defaultEmbed();
    embed.set("callbacks", links(options.path("link")));
    embed.set("errbacks", links(options.path("link_error")));
    if (options.path("chord").isObject()) {
      embed.set("chord", options.get("chord"));
    }
    return builder.embed(embed);
  }

  /** {@code link} may be one signature or a list of them. */
  private static JsonNode links(JsonNode link) {
    if (link.isObject()) {
      ArrayNode list = Json.MAPPER.createArrayNode();
      list.add(link);
      return list;
    }
    return link.isArray() && !link.isEmpty() ? link : Json.MAPPER.nullNode();
  }

  private static Double number(JsonNode node) {
    return node.isNumber() ? node.asDouble() : null;
  }

  private static List<JsonNode> list(JsonNode node) {
    List<JsonNode> list = new ArrayList<>();
    if (node.isArray()) {
      node.forEach(list::add);
    }
    return list;
  }
}
