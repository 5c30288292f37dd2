package io.lovage.schedule;

import io.lovage.broker.LovageTopology;
import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A periodic task: a unique name, the task to send (name, args, kwargs, queue) or a workflow, when
 * ({@link When}: every N seconds, a crontab in a time zone, or once at a time), how long each run
 * may wait before it expires, what to do with runs missed while no scheduler ran ({@link CatchUp}),
 * and whether it is enabled. Its JSON is the REST body and the record in the schedules stream:
 *
 * <pre>{@code
 * {"name": "nightly-report", "task": "reports.build", "args": [], "kwargs": {"day": "yesterday"},
 *  "queue": "celery", "cron": "30 2 * * *", "timezone": "Europe/Berlin", "expires": 3600,
 *  "catchUp": "once", "enabled": true}
 * }</pre>
 *
 * <p>A workflow ({@code "workflow"}: Celery's signature dict of a chain, instead of {@code task},
 * {@code args} and {@code kwargs}) must start with one task: each run is that task's message with
 * the rest of the chain in it, as Celery's client sends a chain, so a run is still one message with
 * one id (exactly once, see {@link Scheduler}). A group or chord may come after the first task.
 *
 * @param task the task, or for a workflow its first task's name
 * @param workflow the workflow as Celery's signature dict, or null for a single task
 */
public record Schedule(
    String name,
    String task,
    ArrayNode args,
    ObjectNode kwargs,
    String queue,
    When when,
    Duration expires,
    CatchUp catchUp,
    boolean enabled,
    ObjectNode workflow) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,200}");
  private static final Pattern TASK = Pattern.compile("[A-Za-z_][A-Za-z0-9_.:-]{0,199}");
  private static final Set<String> FIELDS =
      Set.of(
          "name",
          "task",
          "args",
          "kwargs",
          "queue",
          "every",
          "cron",
          "timezone",
          "at",
          "expires",
          "catchUp",
          "enabled",
          "workflow");

  /**
   * When a schedule's runs are due: exactly one of {@code every} (seconds), {@code cron} (with
   * {@code timezone}, UTC if null) or {@code at}.
   */
  public record When(Long every, String cron, String timezone, Instant at) {
    public When {
      trigger(every, cron, timezone, at); // refuses what cannot be a trigger
    }

    public static When every(long seconds) {
      return new When(seconds, null, null, null);
    }

    public static When cron(String expression, String timezone) {
      return new When(null, expression, timezone, null);
    }

    public static When at(Instant at) {
      return new When(null, null, null, at);
    }

    public Trigger trigger() {
      return trigger(every, cron, timezone, at);
    }

    private static Trigger trigger(Long every, String cron, String timezone, Instant at) {
      return Trigger.of(every, cron, timezone, at == null ? null : at.toString());
    }
  }

  public Schedule {
    require(
        name != null && NAME.matcher(name).matches(),
        "name",
        "must be 1 to 200 letters, digits or . _ : -");
    if (workflow != null) {
      require(
          (args == null || args.isEmpty()) && (kwargs == null || kwargs.isEmpty()),
          "args",
          "belongs in the workflow's tasks when a schedule runs a workflow");
      JsonNode first = SignatureDict.firstTask(workflow);
      require(
          SignatureDict.kind(first) == null && first.path("task").isString(),
          "workflow",
          "must start with one task (a task, or a chain whose first step is a task): each run is"
              + " that task's message, so that it runs once; put a group or chord after it");
      require(
          task == null || task.equals(first.path("task").asString()),
          "task",
          "is the workflow's first task; leave it out");
      task = first.path("task").asString();
      workflow = workflow.deepCopy();
    }
    require(
        task != null && TASK.matcher(task).matches(),
        "task",
        "must be a task name such as \"demo.add\"");
    args = args == null ? Json.MAPPER.createArrayNode() : args.deepCopy();
    kwargs = kwargs == null ? Json.MAPPER.createObjectNode() : kwargs.deepCopy();
    queue = queue == null ? LovageTopology.DEFAULT_QUEUE : queue;
    require(
        LovageTopology.isValidQueueName(queue),
        "queue",
        "must be a queue name of letters, digits, '.', '_', ':' or '-'");
    require(when != null, "every", "give exactly one of every, cron or at");
    require(expires == null || expires.toMillis() >= 1000, "expires", "must be at least 1 second");
    catchUp = catchUp == null ? CatchUp.ONCE : catchUp;
  }

  /** A schedule of one task. */
  public Schedule(
      String name,
      String task,
      ArrayNode args,
      ObjectNode kwargs,
      String queue,
      When when,
      Duration expires,
      CatchUp catchUp,
      boolean enabled) {
    this(name, task, args, kwargs, queue, when, expires, catchUp, enabled, null);
  }

  /** A schedule for {@code task} with no arguments, on the default queue, enabled. */
  public static Schedule of(String name, String task, When when) {
    return new Schedule(name, task, null, null, null, when, null, CatchUp.ONCE, true);
  }

  public Trigger trigger() {
    return when.trigger();
  }

  public Schedule withEnabled(boolean on) {
    return new Schedule(name, task, args, kwargs, queue, when, expires, catchUp, on, workflow);
  }

  /** The JSON of the REST API and of the schedules stream. */
  public ObjectNode toJson() {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("name", name);
    if (workflow != null) {
      json.set("workflow", workflow.deepCopy());
    } else {
      json.put("task", task);
      json.set("args", args.deepCopy());
      json.set("kwargs", kwargs.deepCopy());
    }
    json.put("queue", queue);
    if (when.every() != null) {
      json.put("every", when.every());
    }
    if (when.cron() != null) {
      json.put("cron", when.cron());
      json.put("timezone", when.timezone() == null ? "UTC" : when.timezone());
    }
    if (when.at() != null) {
      json.put("at", when.at().toString());
    }
    if (expires != null) {
      json.put("expires", expires.toSeconds());
    } else {
      json.putNull("expires");
    }
    json.put("catchUp", catchUp.name().toLowerCase(java.util.Locale.ROOT));
    json.put("enabled", enabled);
    return json;
  }

  /**
   * Reads the JSON of {@link #toJson()}; {@code name} may come from elsewhere (a URL path).
   *
   * @throws Invalid naming the field and what is wrong with it
   */
  public static Schedule fromJson(JsonNode json) {
    if (json == null || !json.isObject()) {
      throw new Invalid("", "a schedule must be a JSON object");
    }
    for (String field : json.propertyNames()) {
      if (!FIELDS.contains(field)) {
        throw new Invalid(
            field, "unknown field '" + field + "'; allowed: " + new java.util.TreeSet<>(FIELDS));
      }
    }
    JsonNode args = json.path("args");
    require(
        args.isMissingNode() || args.isNull() || args.isArray(), "args", "must be a JSON array");
    JsonNode kwargs = json.path("kwargs");
    require(
        kwargs.isMissingNode() || kwargs.isNull() || kwargs.isObject(),
        "kwargs",
        "must be a JSON object");
    When when;
    try {
      when =
          new When(
              seconds(json, "every"), text(json, "cron"), text(json, "timezone"), time(json, "at"));
    } catch (Invalid e) {
      throw e;
    } catch (IllegalArgumentException e) {
      String field = json.has("cron") ? "cron" : json.has("at") ? "at" : "every";
      if (json.has("timezone") && e.getMessage() != null && e.getMessage().contains("zone")) {
        field = "timezone";
      }
      throw new Invalid(field, e.getMessage());
    }
    Long expires = seconds(json, "expires");
    String catchUp = text(json, "catchUp");
    JsonNode enabled = json.path("enabled");
    require(
        enabled.isMissingNode() || enabled.isNull() || enabled.isBoolean(),
        "enabled",
        "must be true or false");
    JsonNode workflow = json.path("workflow");
    require(
        workflow.isMissingNode() || workflow.isNull() || workflow.isObject(),
        "workflow",
        "must be a workflow (Celery's signature dict of a chain) as a JSON object");
    try {
      return new Schedule(
          text(json, "name"),
          text(json, "task"),
          args.isArray() ? (ArrayNode) args : null,
          kwargs.isObject() ? (ObjectNode) kwargs : null,
          text(json, "queue"),
          when,
          expires == null ? null : Duration.ofSeconds(expires),
          catchUp == null ? CatchUp.ONCE : CatchUp.parse(catchUp),
          !enabled.isBoolean() || enabled.asBoolean(),
          workflow.isObject() ? (ObjectNode) workflow : null);
    } catch (Invalid e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new Invalid("catchUp", e.getMessage());
    }
  }

  private static String text(JsonNode json, String field) {
    JsonNode value = json.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    require(value.isString(), field, "must be a string");
    return value.asString();
  }

  private static Long seconds(JsonNode json, String field) {
    JsonNode value = json.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    require(
        value.isIntegralNumber() && value.canConvertToLong(),
        field,
        "must be a whole number of seconds");
    return value.asLong();
  }

  private static Instant time(JsonNode json, String field) {
    String value = text(json, field);
    if (value == null) {
      return null;
    }
    try {
      return java.time.OffsetDateTime.parse(value).toInstant();
    } catch (java.time.format.DateTimeParseException e) {
      throw new Invalid(
          field, "must be an ISO-8601 time with an offset, e.g. 2027-01-01T09:00:00+01:00");
    }
  }

  private static void require(boolean ok, String field, String problem) {
    if (!ok) {
      throw new Invalid(field, "field '" + field + "' " + problem);
    }
  }

  /** A schedule that cannot be: which field, and why. */
  public static final class Invalid extends io.lovage.InvalidField {
    public Invalid(String field, String message) {
      super(field, message);
    }
  }
}
