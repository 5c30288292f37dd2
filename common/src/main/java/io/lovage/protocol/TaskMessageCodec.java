package io.lovage.protocol;

import io.lovage.broker.Message;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Turns a {@link TaskMessage} into an AMQP {@link Message} and back, as Celery 5 does with {@code
 * task_protocol = 2} and {@code task_serializer = "json"}.
 *
 * <p>Decoding accepts only what it can run safely: protocol v2, content type {@code
 * application/json}, no compression. Anything else is a {@link MalformedMessageException} that
 * names what was wrong; nothing in a message is ever used to pick a Java class.
 */
public final class TaskMessageCodec {
  public static final String CONTENT_TYPE = "application/json";
  public static final String CONTENT_ENCODING = "utf-8";

  /** Headers this codec reads into fields; every other header is carried in extraHeaders. */
  private static final Set<String> MODELLED_HEADERS =
      Set.of(
          "task",
          "id",
          "eta",
          "expires",
          "group",
          "retries",
          "timelimit",
          "root_id",
          "parent_id",
          "argsrepr",
          "kwargsrepr",
          "origin");

  private TaskMessageCodec() {}

  /**
   * Celery's protocol v2 headers, in Celery's order, without those that would be null ({@code
   * shadow}, {@code eta}, {@code expires}, {@code group}, {@code group_index}, …): Celery reads
   * each with {@code headers.get(name)}, so absent and null mean the same to it and to {@link
   * #decode}, and every header costs its sender, the broker and its worker a parse. Celery's {@code
   * timelimit} of {@code [None, None]} (no limits) is left out likewise.
   */
  public static Message encode(TaskMessage task) {
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("lang", "py");
    headers.put("task", task.task());
    headers.put("id", task.id());
    putPresent(headers, "eta", task.eta() == null ? null : CeleryTime.format(task.eta()));
    putPresent(
        headers, "expires", task.expires() == null ? null : CeleryTime.format(task.expires()));
    putPresent(headers, "group", task.group());
    headers.put("retries", task.retries());
    if (task.timeLimit().hard() != null || task.timeLimit().soft() != null) {
      // Celery's order is [hard, soft]: celery/app/amqp.py as_task_v2.
      headers.put(
          "timelimit",
          Arrays.asList(seconds(task.timeLimit().hard()), seconds(task.timeLimit().soft())));
    }
    putPresent(headers, "root_id", task.rootId());
    putPresent(headers, "parent_id", task.parentId());
    putPresent(headers, "argsrepr", task.argsrepr());
    putPresent(headers, "kwargsrepr", task.kwargsrepr());
    putPresent(headers, "origin", task.origin());
    headers.put(TaskMessage.IGNORE_RESULT, false);
    task.extraHeaders().forEach((name, value) -> putPresent(headers, name, value));

    ArrayNode body = Json.MAPPER.createArrayNode();
    body.add(task.args());
    body.add(task.kwargs());
    body.add(task.embed());
    return new Message(
        Json.MAPPER.writeValueAsBytes(body),
        headers,
        CONTENT_TYPE,
        CONTENT_ENCODING,
        task.id(),
        task.replyTo(),
        task.priority() == null ? 0 : task.priority(),
        true);
  }

  private static void putPresent(Map<String, Object> headers, String name, Object value) {
    if (value != null) {
      headers.put(name, value);
    }
  }

  /** Whole seconds go out as integers, as Python sends {@code time_limit=60}. */
  private static Number seconds(Double value) {
    if (value == null) {
      return null;
    }
    return value == Math.rint(value) && Math.abs(value) < Integer.MAX_VALUE
        ? (Number) value.intValue()
        : value;
  }

  /**
   * The task's name from the protocol v2 {@code task} header, without decoding the body; null when
   * there is none (not a task message): what a worker's flow control stages key on.
   */
  public static String taskName(Message message) {
    Object task = message.headers().get("task");
    return task == null ? null : task.toString();
  }

  public static TaskMessage decode(Message message) throws MalformedMessageException {
    checkContent(message);
    Map<String, Object> headers = message.headers();
    JsonNode body = parseBody(message.body());
    if (!headers.containsKey("task") || !headers.containsKey("id")) {
      if (body.isObject() && body.has("task")) {
        throw new MalformedMessageException(
            "Celery message protocol v1 is not supported: send with task_protocol = 2");
      }
      throw new MalformedMessageException(
          "not a Celery protocol v2 task message: headers 'task' and 'id' are required");
    }
    if (!body.isArray() || body.size() != 3) {
      throw new MalformedMessageException("body must be a JSON array [args, kwargs, embed]");
    }
    if (!body.get(0).isArray()) {
      throw new MalformedMessageException("body[0] (args) must be a JSON array");
    }
    if (!body.get(1).isObject()) {
      throw new MalformedMessageException("body[1] (kwargs) must be a JSON object");
    }
    JsonNode embed = body.get(2);
    if (!embed.isObject() && !embed.isNull()) {
      throw new MalformedMessageException("body[2] (embed) must be a JSON object or null");
    }

    Map<String, Object> extra = new LinkedHashMap<>();
    headers.forEach(
        (name, value) -> {
          if (!MODELLED_HEADERS.contains(name) && !Message.isDeliveryHeader(name)) {
            extra.put(name, value);
          }
        });
    return new TaskMessage(
        requiredString(headers, "id"),
        requiredString(headers, "task"),
        (ArrayNode) body.get(0),
        (ObjectNode) body.get(1),
        embed.isObject() ? (ObjectNode) embed : null,
        optionalString(headers, "root_id"),
        optionalString(headers, "parent_id"),
        optionalString(headers, "group"),
        retries(headers.get("retries")),
        time(headers, "eta"),
        time(headers, "expires"),
        timeLimit(headers.get("timelimit")),
        optionalString(headers, "argsrepr"),
        optionalString(headers, "kwargsrepr"),
        optionalString(headers, "origin"),
        blankToNull(message.replyTo()),
        message.priority(),
        extra);
  }

  private static void checkContent(Message message) throws MalformedMessageException {
    String type = message.contentType();
    if (type == null || !type.equalsIgnoreCase(CONTENT_TYPE)) {
      throw new MalformedMessageException(
          "content type '"
              + type
              + "' is not accepted: Lovage runs only application/json task messages");
    }
    String encoding = message.contentEncoding();
    if (encoding != null && !encoding.isEmpty() && !encoding.equalsIgnoreCase(CONTENT_ENCODING)) {
      throw new MalformedMessageException(
          "content encoding '" + encoding + "' is not accepted: expected utf-8");
    }
    Object compression = message.headers().get("compression");
    if (compression != null) {
      throw new MalformedMessageException(
          "compressed messages ('" + compression + "') are not accepted");
    }
  }

  private static JsonNode parseBody(byte[] body) throws MalformedMessageException {
    try {
      return Json.MAPPER.readTree(body);
    } catch (JacksonException e) {
      throw new MalformedMessageException("body is not valid JSON: " + e.getOriginalMessage(), e);
    }
  }

  private static String requiredString(Map<String, Object> headers, String name)
      throws MalformedMessageException {
    String value = optionalString(headers, name);
    if (value == null || value.isBlank()) {
      throw new MalformedMessageException("header '" + name + "' must be a non-empty string");
    }
    return value;
  }

  private static String optionalString(Map<String, Object> headers, String name)
      throws MalformedMessageException {
    Object value = headers.get(name);
    if (value == null) {
      return null;
    }
    if (value instanceof String s) {
      return s;
    }
    throw new MalformedMessageException("header '" + name + "' must be a string, got " + value);
  }

  private static int retries(Object value) throws MalformedMessageException {
    if (value == null) {
      return 0;
    }
    if (value instanceof Number n && n.longValue() >= 0 && n.longValue() <= Integer.MAX_VALUE) {
      return n.intValue();
    }
    throw new MalformedMessageException("header 'retries' must be a non-negative integer");
  }

  private static Instant time(Map<String, Object> headers, String name)
      throws MalformedMessageException {
    String text = optionalString(headers, name);
    if (text == null) {
      return null;
    }
    try {
      return CeleryTime.parse(text);
    } catch (DateTimeParseException e) {
      throw new MalformedMessageException(
          "header '" + name + "' is not an ISO-8601 time: " + text, e);
    }
  }

  private static TaskMessage.TimeLimit timeLimit(Object value) throws MalformedMessageException {
    if (value == null) {
      return TaskMessage.TimeLimit.NONE;
    }
    if (value instanceof List<?> pair && pair.size() == 2) {
      List<Double> seconds = new ArrayList<>(2);
      for (Object limit : pair) {
        if (limit == null) {
          seconds.add(null);
        } else if (limit instanceof Number n && n.doubleValue() > 0) {
          seconds.add(n.doubleValue());
        } else {
          throw new MalformedMessageException(
              "header 'timelimit' must hold positive numbers or nulls");
        }
      }
      return new TaskMessage.TimeLimit(seconds.get(1), seconds.get(0));
    }
    throw new MalformedMessageException("header 'timelimit' must be a list [hard, soft]");
  }

  private static String blankToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
