package io.lovage.producer;

import io.lovage.Signature;
import io.lovage.Unique;
import io.lovage.broker.LovageTopology;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.service.Problem;
import io.lovage.service.openapi.JsonSchema;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The body of {@code POST /tasks}, checked field by field: {@code task} (required), {@code args},
 * {@code kwargs}, {@code queue}, {@code countdown} (seconds) or {@code eta} (ISO-8601), {@code
 * expires} (ISO-8601, or seconds from now), {@code maxRetries}, {@code timeLimit} and {@code
 * softTimeLimit} (seconds), {@code unique} (a key, or true for a key from the task name and
 * arguments) with {@code uniqueFor} (seconds, default an hour). Anything else is an error that
 * points at the field.
 */
record TaskSubmission(
    String task,
    ArrayNode args,
    ObjectNode kwargs,
    String queue,
    Instant eta,
    Instant expires,
    Integer maxRetries,
    Double softTimeLimit,
    Double timeLimit,
    java.util.List<Signature> link,
    java.util.List<Signature> linkError,
    Integer priority,
    Unique unique) {
  static final Pattern TASK_NAME = Pattern.compile("[\\w.:\\-]{1,200}");
  static final Pattern QUEUE_NAME = Pattern.compile("[\\w.:\\-]{1,200}");
  static final int MAX_RETRIES_LIMIT = 1_000;
  static final String SCHEMA = "TaskSubmission";
  static final String SIGNATURE_SCHEMA = "Signature";
  // parse accepts what the schema lists: the OpenAPI document cannot show a field it refuses.
  private static final Set<String> FIELDS = propertyNames(jsonSchema());
  private static final Set<String> SIGNATURE_FIELDS = propertyNames(signatureSchema());

  /** The body as JSON Schema, for the OpenAPI document; its properties are the allowed fields. */
  static ObjectNode jsonSchema() {
    long maxDelay = LovageTopology.MAX_DELAY_SECONDS;
    Map<String, ObjectNode> fields = new LinkedHashMap<>();
    fields.put(
        "task",
        JsonSchema.string("the name of the task to run, e.g. demo.add")
            .put("pattern", TASK_NAME.pattern()));
    fields.put("args", JsonSchema.array("positional arguments", null));
    fields.put("kwargs", JsonSchema.anyObject("keyword arguments"));
    fields.put("queue", queueSchema().put("default", LovageTopology.DEFAULT_QUEUE));
    fields.put(
        "countdown",
        JsonSchema.number("seconds to wait before it runs; not with eta", 0, maxDelay));
    fields.put("eta", JsonSchema.dateTime("when it runs, with an offset; not with countdown"));
    fields.put(
        "expires",
        JsonSchema.oneOf(
            "when it expires unrun: a time with an offset, or seconds from now",
            JsonSchema.dateTime(""),
            positiveSeconds("")));
    fields.put(
        "maxRetries",
        JsonSchema.integer(
            "how often it may be retried; overrides the task's own", 0, MAX_RETRIES_LIMIT));
    fields.put("timeLimit", positiveSeconds("seconds it may run before it is killed"));
    fields.put(
        "softTimeLimit",
        positiveSeconds("seconds it may run before SoftTimeLimitExceeded is raised in it"));
    fields.put("link", signaturesSchema("called with its result when it succeeds (Celery's link)"));
    fields.put(
        "linkError", signaturesSchema("called with its id when it fails (Celery's link_error)"));
    fields.put(
        "priority",
        JsonSchema.integer(
            "higher runs first; classic queues honour it, quorum queues on RabbitMQ 3.10 ignore"
                + " it",
            0,
            LovageTopology.MAX_PRIORITY));
    fields.put(
        "unique",
        JsonSchema.oneOf(
            "send it only if no equal task is pending or running, else answer that one's id"
                + " (200, Unique-Replayed: true): a key of 1 to "
                + Unique.MAX_KEY
                + " characters, or true for a key from the task name, args and kwargs",
            JsonSchema.string("").put("minLength", 1).put("maxLength", Unique.MAX_KEY),
            JsonSchema.bool("")));
    fields.put(
        "uniqueFor",
        JsonSchema.number(
                "with unique: the longest the key stays taken, in seconds, if the task does not"
                    + " finish first",
                0,
                Unique.MAX_FOR.toSeconds())
            .put("exclusiveMinimum", true)
            .put("default", Unique.DEFAULT_FOR.toSeconds()));
    return JsonSchema.object("A task to run; only task is required.", fields, "task");
  }

  /** A callback in link or linkError: Celery's signature. */
  static ObjectNode signatureSchema() {
    Map<String, ObjectNode> fields = new LinkedHashMap<>();
    fields.put("task", JsonSchema.string("the task to call").put("pattern", TASK_NAME.pattern()));
    fields.put("args", JsonSchema.array("positional arguments, before the result or id", null));
    fields.put("kwargs", JsonSchema.anyObject("keyword arguments"));
    fields.put("queue", queueSchema().put("description", "default: the queue of the task"));
    fields.put(
        "immutable",
        JsonSchema.bool("when true, it is called without the result or id").put("default", false));
    return JsonSchema.object("A task to call later, Celery's signature.", fields, "task");
  }

  private static ObjectNode queueSchema() {
    return JsonSchema.string("the queue to send it to; names starting with amq. are refused")
        .put("pattern", QUEUE_NAME.pattern());
  }

  private static ObjectNode positiveSeconds(String description) {
    return JsonSchema.number(description, 0, LovageTopology.MAX_DELAY_SECONDS)
        .put("exclusiveMinimum", true);
  }

  private static ObjectNode signaturesSchema(String description) {
    return JsonSchema.oneOf(
        description,
        JsonSchema.ref(SIGNATURE_SCHEMA),
        JsonSchema.array("", JsonSchema.ref(SIGNATURE_SCHEMA)));
  }

  private static Set<String> propertyNames(ObjectNode schema) {
    return Set.copyOf(schema.get("properties").propertyNames());
  }

  /** A field of the request that is wrong; becomes a 400 problem with a pointer. */
  static final class Invalid extends Exception {
    final Problem problem;

    Invalid(String pointer, String detail) {
      super(detail);
      this.problem = Problem.badRequest(pointer, detail);
    }
  }

  static TaskSubmission parse(String body) throws Invalid {
    return parse(body, Instant.now());
  }

  static TaskSubmission parse(String body, Instant now) throws Invalid {
    return parse(body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8), now);
  }

  /**
   * Parses a request body as sent: bytes that are not UTF-8 are refused, never replaced with U+FFFD
   * (a task must run with the text its client sent, or not at all).
   */
  static TaskSubmission parse(byte[] body) throws Invalid {
    return parse(body, Instant.now());
  }

  static TaskSubmission parse(byte[] body, Instant now) throws Invalid {
    return parse(readJson(body), now);
  }

  /** The body as JSON; an {@link Invalid} without pointer when it is not UTF-8 JSON. */
  static JsonNode readJson(byte[] body) throws Invalid {
    try {
      return Json.MAPPER.readTree(body == null ? new byte[0] : body);
    } catch (JacksonException e) {
      throw new Invalid(null, "request body is not valid JSON: " + e.getOriginalMessage());
    }
  }

  static TaskSubmission parse(JsonNode json, Instant now) throws Invalid {
    if (json == null || !json.isObject()) {
      throw new Invalid("", "request body must be a JSON object");
    }
    for (Iterator<String> names = json.propertyNames().iterator(); names.hasNext(); ) {
      String name = names.next();
      if (!FIELDS.contains(name)) {
        throw new Invalid(
            "/" + name,
            "unknown field '"
                + name
                + "'; allowed: "
                + String.join(", ", FIELDS.stream().sorted().toList()));
      }
    }
    JsonNode task = present(json, "task");
    if (task == null) {
      throw new Invalid("/task", "field 'task' is required: the name of the task to run");
    }
    if (!task.isString() || !TASK_NAME.matcher(task.stringValue()).matches()) {
      throw new Invalid("/task", "field 'task' must be a task name such as \"demo.add\"");
    }
    JsonNode args = present(json, "args");
    if (args != null && !args.isArray()) {
      throw new Invalid("/args", "field 'args' must be a JSON array");
    }
    JsonNode kwargs = present(json, "kwargs");
    if (kwargs != null && !kwargs.isObject()) {
      throw new Invalid("/kwargs", "field 'kwargs' must be a JSON object");
    }
    return new TaskSubmission(
        task.stringValue(),
        (ArrayNode) args,
        (ObjectNode) kwargs,
        queue(present(json, "queue")),
        eta(present(json, "countdown"), present(json, "eta"), now),
        expires(present(json, "expires"), now),
        maxRetries(present(json, "maxRetries")),
        limit(present(json, "softTimeLimit"), "/softTimeLimit", "softTimeLimit"),
        limit(present(json, "timeLimit"), "/timeLimit", "timeLimit"),
        signatures(present(json, "link"), "/link"),
        signatures(present(json, "linkError"), "/linkError"),
        priority(present(json, "priority")),
        unique(present(json, "unique"), present(json, "uniqueFor")));
  }

  private static JsonNode present(JsonNode json, String field) {
    JsonNode value = json.get(field);
    return value == null || value.isNull() ? null : value;
  }

  private static String queue(JsonNode queue) throws Invalid {
    if (queue == null) {
      return LovageTopology.DEFAULT_QUEUE;
    }
    if (!queue.isString() || !isQueueName(queue.stringValue())) {
      throw new Invalid(
          "/queue", "field 'queue' must be a queue name of letters, digits, '.', '_', ':' or '-'");
    }
    return queue.stringValue();
  }

  /** A name a task may be sent to: letters, digits, '.', '_', ':' or '-', and not amq.*. */
  static boolean isQueueName(String name) {
    return io.lovage.broker.LovageTopology.isValidQueueName(name);
  }

  private static Instant eta(JsonNode countdown, JsonNode eta, Instant now) throws Invalid {
    if (countdown != null && eta != null) {
      throw new Invalid("/countdown", "give 'countdown' or 'eta', not both");
    }
    if (countdown != null) {
      return now.plus(seconds(countdown, "/countdown", "countdown", true));
    }
    return eta == null ? null : time(eta, "/eta", "eta");
  }

  private static Instant expires(JsonNode expires, Instant now) throws Invalid {
    if (expires == null) {
      return null;
    }
    return expires.isNumber()
        ? now.plus(seconds(expires, "/expires", "expires", false))
        : time(expires, "/expires", "expires");
  }

  private static Duration seconds(JsonNode value, String pointer, String field, boolean zeroAllowed)
      throws Invalid {
    double max = LovageTopology.MAX_DELAY_SECONDS;
    if (!value.isNumber()
        || value.asDouble() < 0
        || (!zeroAllowed && value.asDouble() == 0)
        || value.asDouble() > max) {
      throw new Invalid(
          pointer,
          "field '"
              + field
              + "' must be a number of seconds, "
              + (zeroAllowed ? "0" : "above 0")
              + " to "
              + (long) max);
    }
    return Duration.ofMillis(Math.round(value.asDouble() * 1000));
  }

  private static Instant time(JsonNode value, String pointer, String field) throws Invalid {
    try {
      if (value.isString()) {
        return OffsetDateTime.parse(value.stringValue()).toInstant();
      }
    } catch (DateTimeParseException e) {
      // falls through to the error below
    }
    throw new Invalid(
        pointer,
        "field '" + field + "' must be an ISO-8601 time with an offset, e.g. 2030-01-02T03:04:05Z");
  }

  /** One {@code {"task", "args", "kwargs", "queue", "immutable"}} object, or a list of them. */
  private static java.util.List<Signature> signatures(JsonNode value, String pointer)
      throws Invalid {
    if (value == null) {
      return java.util.List.of();
    }
    java.util.List<JsonNode> items =
        value.isArray() ? value.valueStream().toList() : java.util.List.of(value);
    java.util.List<Signature> out = new java.util.ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      JsonNode item = items.get(i);
      String at = value.isArray() ? pointer + "/" + i : pointer;
      if (!item.isObject()) {
        throw new Invalid(
            at, "a signature is an object {\"task\", \"args\", \"kwargs\", \"queue\"}");
      }
      for (String name : item.propertyNames()) {
        if (!SIGNATURE_FIELDS.contains(name)) {
          throw new Invalid(at + "/" + name, "unknown field '" + name + "' in a signature");
        }
      }
      JsonNode task = item.get("task");
      if (task == null || !task.isString() || !TASK_NAME.matcher(task.stringValue()).matches()) {
        throw new Invalid(at + "/task", "a signature needs a task name");
      }
      JsonNode args = present(item, "args");
      JsonNode kwargs = present(item, "kwargs");
      if (args != null && !args.isArray()) {
        throw new Invalid(at + "/args", "field 'args' must be a JSON array");
      }
      if (kwargs != null && !kwargs.isObject()) {
        throw new Invalid(at + "/kwargs", "field 'kwargs' must be a JSON object");
      }
      JsonNode queue = present(item, "queue");
      out.add(
          new Signature(
              task.stringValue(),
              (ArrayNode) args,
              (ObjectNode) kwargs,
              queue == null ? null : queue(queue),
              item.path("immutable").asBoolean(false)));
    }
    return out;
  }

  private static Double limit(JsonNode value, String pointer, String field) throws Invalid {
    if (value == null) {
      return null;
    }
    return seconds(value, pointer, field, false).toMillis() / 1000.0;
  }

  private static Integer priority(JsonNode value) throws Invalid {
    if (value == null) {
      return null;
    }
    if (!value.isIntegralNumber()
        || value.asLong() < 0
        || value.asLong() > LovageTopology.MAX_PRIORITY) {
      throw new Invalid(
          "/priority",
          "field 'priority' must be an integer from 0 to " + LovageTopology.MAX_PRIORITY);
    }
    return value.asInt();
  }

  /** {@code "unique": "<key>" | true} and {@code "uniqueFor": seconds}, or null for neither. */
  private static Unique unique(JsonNode unique, JsonNode uniqueFor) throws Invalid {
    boolean wanted = unique != null && !(unique.isBoolean() && !unique.booleanValue());
    if (uniqueFor != null && !wanted) {
      throw new Invalid("/uniqueFor", "field 'uniqueFor' needs 'unique': a key, or true");
    }
    if (!wanted) {
      return null;
    }
    Duration lasting = Unique.DEFAULT_FOR;
    if (uniqueFor != null) {
      double max = Unique.MAX_FOR.toSeconds();
      if (!uniqueFor.isNumber() || uniqueFor.asDouble() <= 0 || uniqueFor.asDouble() > max) {
        throw new Invalid(
            "/uniqueFor",
            "field 'uniqueFor' must be a number of seconds, above 0 to " + (long) max);
      }
      lasting = Duration.ofMillis(Math.max(1, Math.round(uniqueFor.asDouble() * 1000)));
    }
    if (unique.isBoolean()) {
      return Unique.byArguments().lasting(lasting);
    }
    if (!unique.isString()
        || unique.stringValue().isBlank()
        || unique.stringValue().length() > Unique.MAX_KEY) {
      throw new Invalid(
          "/unique",
          "field 'unique' must be a key of 1 to "
              + Unique.MAX_KEY
              + " characters, or true for a key from the task name and arguments");
    }
    return Unique.key(unique.stringValue()).lasting(lasting);
  }

  private static Integer maxRetries(JsonNode value) throws Invalid {
    if (value == null) {
      return null;
    }
    if (!value.isIntegralNumber() || value.asLong() < 0 || value.asLong() > MAX_RETRIES_LIMIT) {
      throw new Invalid(
          "/maxRetries", "field 'maxRetries' must be an integer from 0 to " + MAX_RETRIES_LIMIT);
    }
    return value.asInt();
  }

  TaskMessage toMessage() {
    TaskMessage.Builder message =
        TaskMessage.builder(task)
            .args(args)
            .kwargs(kwargs)
            .eta(eta)
            .expires(expires)
            .timeLimit(new TaskMessage.TimeLimit(softTimeLimit, timeLimit))
            .priority(priority);
    if (maxRetries != null) {
      message.header("max_retries", maxRetries);
    }
    link.forEach(message::link);
    linkError.forEach(message::linkError);
    return message.build();
  }
}
