package io.lovage.producer;

import io.lovage.producer.TaskSubmission.Invalid;
import io.lovage.protocol.CeleryTime;
import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import io.lovage.service.openapi.JsonSchema;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The body of {@code POST /workflows}, checked and turned into Celery's signature dict, the one
 * form {@link io.lovage.workflow.CanvasSender} sends. Two forms are read, and may be nested in each
 * other:
 *
 * <ul>
 *   <li>Celery's own, as Python prints {@code json.dumps(chain(add.s(1, 2), add.s(3)))}: {@code
 *       {"task": "celery.chain", "kwargs": {"tasks": [...]}, "subtask_type": "chain", ...}}; a
 *       group holds its members in {@code kwargs.tasks}, a chord in {@code kwargs.header} and
 *       {@code kwargs.body}; a dict with {@code subtask_type} null is one task. Fields Celery adds
 *       that Lovage does not read are kept.
 *   <li>a short form: {@code {"chain": [x, ...]}}, {@code {"group": [x, ...]}}, {@code {"chord":
 *       {"header": [x, ...], "body": x}}}, where a task {@code x} is {@code {"task", "args",
 *       "kwargs", "queue", "immutable", "options"}} (only {@code task} required; {@code options}
 *       are Celery's {@code apply_async} options, e.g. {@code countdown}).
 * </ul>
 *
 * <pre>{@code
 * {"chord": {"header": [{"task": "demo.add", "args": [1, 1]}, {"task": "demo.add", "args": [2, 2]}],
 *            "body": {"task": "demo.tsum"}}}
 * }</pre>
 *
 * Anything else is an {@link Invalid} whose pointer names the place in the body. Task names unknown
 * to workers are not checked, as for {@code POST /tasks}.
 *
 * @param canvas the workflow as Celery's signature dict, not frozen yet (no ids assigned)
 * @param tasks how many tasks it has
 */
record WorkflowSubmission(ObjectNode canvas, int tasks) {
  /** Chains, groups and chords nest at most this deep: the root container is level 1. */
  static final int MAX_DEPTH = 32;

  /**
   * Tasks in one workflow at most, all levels together (a chord of 10,000 header tasks is well
   * within it; the 1 MiB body limit usually binds first).
   */
  static final int MAX_TASKS = 100_000;

  static final String SCHEMA = "Workflow";
  static final String TASK_SCHEMA = "WorkflowTask";
  static final String CELERY_SCHEMA = "CelerySignature";

  /** Celery's subtask types; xmap, xstarmap and chunks are tasks of their own (celery.map, …). */
  private static final Set<String> SUBTASK_TYPES =
      Set.of(
          SignatureDict.CHAIN,
          SignatureDict.GROUP,
          SignatureDict.CHORD,
          "xmap",
          "xstarmap",
          "chunks");

  private static final List<String> SHORT_KINDS =
      List.of(SignatureDict.CHAIN, SignatureDict.GROUP, SignatureDict.CHORD);

  // The parser accepts what the schema lists: the OpenAPI document cannot show a field it refuses.
  private static final Set<String> TASK_FIELDS =
      Set.copyOf(taskSchema().get("properties").propertyNames());

  static WorkflowSubmission parse(String body) throws Invalid {
    return parse(body.getBytes(StandardCharsets.UTF_8));
  }

  static WorkflowSubmission parse(byte[] body) throws Invalid {
    return parse(TaskSubmission.readJson(body), Instant.now());
  }

  static WorkflowSubmission parse(JsonNode json, Instant now) throws Invalid {
    if (json == null || !json.isObject()) {
      throw new Invalid("", "request body must be a JSON object: a task, chain, group or chord");
    }
    Parser parser = new Parser(now);
    ObjectNode canvas = parser.canvas(json, "", 0);
    return new WorkflowSubmission(canvas, parser.tasks);
  }

  /** One walk over the body: checks, counts, and builds Celery's dict. */
  private static final class Parser {
    private final Instant now;
    private final Set<String> taskIds = new HashSet<>();
    private int tasks;

    Parser(Instant now) {
      this.now = now;
    }

    /** A member at {@code at}, inside {@code depth} containers. */
    ObjectNode canvas(JsonNode node, String at, int depth) throws Invalid {
      if (!node.isObject()) {
        throw new Invalid(
            at,
            "a workflow member must be an object: a task {\"task\": ...}, {\"chain\": [...]},"
                + " {\"group\": [...]} or {\"chord\": {\"header\": [...], \"body\": ...}}");
      }
      if (!node.has("task")) {
        return shortContainer((ObjectNode) node, at, depth);
      }
      JsonNode type = node.get("subtask_type");
      if (type != null
          && !type.isNull()
          && !(type.isString() && SUBTASK_TYPES.contains(type.stringValue()))) {
        throw new Invalid(
            at + "/subtask_type",
            "unknown subtask_type "
                + type
                + "; known: null (a task), "
                + String.join(", ", SUBTASK_TYPES.stream().sorted().toList()));
      }
      String kind = SignatureDict.kind(node);
      if (kind != null) {
        return celeryContainer((ObjectNode) node, kind, at, depth);
      }
      return task((ObjectNode) node, at, !node.has("subtask_type"));
    }

    private ObjectNode shortContainer(ObjectNode node, String at, int depth) throws Invalid {
      String kind = SHORT_KINDS.stream().filter(node::has).findFirst().orElse(null);
      if (kind == null) {
        throw new Invalid(
            at + "/task",
            "a workflow member needs 'task' (a task), or one of 'chain', 'group' or 'chord'");
      }
      for (String name : node.propertyNames()) {
        if (!name.equals(kind)) {
          throw new Invalid(
              at + "/" + escape(name), "unknown field '" + name + "' next to '" + kind + "'");
        }
      }
      nest(at, depth);
      String where = at + "/" + kind;
      if (!SignatureDict.CHORD.equals(kind)) {
        return container(kind, members(node.get(kind), where, depth + 1, "a " + kind));
      }
      JsonNode chord = node.get(kind);
      if (!chord.isObject()) {
        throw new Invalid(where, "a chord is {\"header\": [...], \"body\": ...}");
      }
      for (String name : chord.propertyNames()) {
        if (!name.equals("header") && !name.equals("body")) {
          throw new Invalid(
              where + "/" + escape(name),
              "unknown field '" + name + "' in a chord; allowed: header, body");
        }
      }
      ArrayNode header =
          members(chord.get("header"), where + "/header", depth + 1, "a chord's header");
      return chord(header, body(chord.get("body"), where + "/body", depth + 1));
    }

    private ObjectNode celeryContainer(ObjectNode node, String kind, String at, int depth)
        throws Invalid {
      nest(at, depth);
      JsonNode kwargs = node.get("kwargs");
      if (kwargs == null || !kwargs.isObject()) {
        throw new Invalid(at + "/kwargs", "a " + kind + "'s kwargs must be a JSON object");
      }
      // Shallow copies: the members are replaced by their checked copies below.
      ObjectNode copy = Json.MAPPER.createObjectNode();
      copy.setAll((ObjectNode) node);
      copy.set("options", options(node, at, false));
      ObjectNode newKwargs = copy.putObject("kwargs");
      newKwargs.setAll((ObjectNode) kwargs);
      if (SignatureDict.CHORD.equals(kind)) {
        newKwargs.set(
            "header",
            members(kwargs.get("header"), at + "/kwargs/header", depth + 1, "a chord's header"));
        newKwargs.set("body", body(kwargs.get("body"), at + "/kwargs/body", depth + 1));
      } else {
        newKwargs.set(
            "tasks", members(kwargs.get("tasks"), at + "/kwargs/tasks", depth + 1, "a " + kind));
      }
      return copy;
    }

    private ArrayNode members(JsonNode list, String at, int depth, String what) throws Invalid {
      if (list == null || !list.isArray() || list.isEmpty()) {
        throw new Invalid(at, what + " needs a JSON array of at least one task");
      }
      ArrayNode members = Json.MAPPER.createArrayNode();
      for (int i = 0; i < list.size(); i++) {
        members.add(canvas(list.get(i), at + "/" + i, depth));
      }
      return members;
    }

    private ObjectNode body(JsonNode body, String at, int depth) throws Invalid {
      if (body == null || body.isNull()) {
        throw new Invalid(at, "a chord needs a body: the task called with the header's results");
      }
      return canvas(body, at, depth);
    }

    private void nest(String at, int depth) throws Invalid {
      if (depth >= MAX_DEPTH) {
        throw new Invalid(
            at, "chains, groups and chords nest at most " + MAX_DEPTH + " levels deep");
      }
    }

    /**
     * A task, in the short form ({@code strict}: only the short form's fields) or Celery's dict
     * (other fields kept), as Celery's dict.
     */
    private ObjectNode task(ObjectNode node, String at, boolean strict) throws Invalid {
      if (++tasks > MAX_TASKS) {
        throw new Invalid("", "a workflow has at most " + MAX_TASKS + " tasks");
      }
      if (strict) {
        for (String name : node.propertyNames()) {
          if (!TASK_FIELDS.contains(name)) {
            throw new Invalid(
                at + "/" + escape(name),
                "unknown field '"
                    + name
                    + "' in a task; allowed: "
                    + String.join(", ", TASK_FIELDS.stream().sorted().toList()));
          }
        }
      }
      JsonNode task = node.get("task");
      if (!task.isString() || !TaskSubmission.TASK_NAME.matcher(task.stringValue()).matches()) {
        throw new Invalid(at + "/task", "field 'task' must be a task name such as \"demo.add\"");
      }
      JsonNode args = present(node, "args");
      if (args != null && !args.isArray()) {
        throw new Invalid(at + "/args", "field 'args' must be a JSON array");
      }
      JsonNode kwargs = present(node, "kwargs");
      if (kwargs != null && !kwargs.isObject()) {
        throw new Invalid(at + "/kwargs", "field 'kwargs' must be a JSON object");
      }
      JsonNode immutable = present(node, "immutable");
      if (immutable != null && !immutable.isBoolean()) {
        throw new Invalid(at + "/immutable", "field 'immutable' must be true or false");
      }
      ObjectNode options = options(node, at, true);
      JsonNode queue = present(node, "queue");
      if (strict && queue != null) {
        if (!queue.isString() || !TaskSubmission.isQueueName(queue.stringValue())) {
          throw new Invalid(at + "/queue", badQueue("queue"));
        }
        options.set("queue", queue);
      }
      ObjectNode copy = strict ? Json.MAPPER.createObjectNode() : node.deepCopy();
      copy.set("task", task);
      copy.set("args", args == null ? Json.MAPPER.createArrayNode() : args.deepCopy());
      copy.set("kwargs", kwargs == null ? Json.MAPPER.createObjectNode() : kwargs.deepCopy());
      copy.set("options", options);
      if (strict) {
        copy.putNull("subtask_type");
      }
      copy.put("immutable", immutable != null && immutable.booleanValue());
      try {
        // What CanvasSender will do with it, now, so that a bad option never stops a send midway.
        SignatureDict.message(copy, null, now).build();
      } catch (RuntimeException e) {
        throw new Invalid(at, "not a task Lovage can send: " + e.getMessage());
      }
      return copy;
    }

    /**
     * A copy of the options, checked where Lovage reads them; a task's {@code task_id} must be
     * unique in the workflow (a frozen Celery chain or group may repeat a member's in its own).
     */
    private ObjectNode options(JsonNode node, String at, boolean ofTask) throws Invalid {
      JsonNode options = present(node, "options");
      if (options == null) {
        return Json.MAPPER.createObjectNode();
      }
      String where = at + "/options";
      if (!options.isObject()) {
        throw new Invalid(where, "field 'options' must be a JSON object");
      }
      JsonNode id = present(options, "task_id");
      if (id != null) {
        if (!id.isString() || id.stringValue().isBlank() || id.stringValue().length() > 200) {
          throw new Invalid(where + "/task_id", "task_id must be a string of 1 to 200 characters");
        }
        if (ofTask && !taskIds.add(id.stringValue())) {
          throw new Invalid(
              where + "/task_id", "task_id '" + id.stringValue() + "' is given twice");
        }
      }
      JsonNode queue = present(options, "queue");
      if (queue != null
          && (!queue.isString() || !TaskSubmission.isQueueName(queue.stringValue()))) {
        throw new Invalid(where + "/queue", badQueue("queue"));
      }
      JsonNode countdown = present(options, "countdown");
      if (countdown != null && (!countdown.isNumber() || countdown.asDouble() < 0)) {
        throw new Invalid(where + "/countdown", "countdown must be a number of seconds, 0 or more");
      }
      time(present(options, "eta"), where + "/eta", false);
      time(present(options, "expires"), where + "/expires", true);
      return (ObjectNode) options.deepCopy();
    }

    private static void time(JsonNode value, String at, boolean secondsAllowed) throws Invalid {
      if (value == null || secondsAllowed && value.isNumber()) {
        return;
      }
      try {
        if (value.isString()) {
          CeleryTime.parse(value.stringValue());
          return;
        }
      } catch (RuntimeException e) {
        // falls through to the error below
      }
      throw new Invalid(
          at,
          "must be an ISO-8601 time, e.g. 2030-01-02T03:04:05Z"
              + (secondsAllowed ? ", or seconds from now" : ""));
    }
  }

  private static String badQueue(String field) {
    return "field '"
        + field
        + "' must be a queue name of letters, digits, '.', '_', ':' or '-', not starting with amq.";
  }

  private static JsonNode present(JsonNode json, String field) {
    JsonNode value = json.get(field);
    return value == null || value.isNull() ? null : value;
  }

  /** A name as one step of a JSON pointer (RFC 6901). */
  private static String escape(String name) {
    return name.replace("~", "~0").replace("/", "~1");
  }

  /** Celery's dict of a chain or group of these members. */
  private static ObjectNode container(String kind, ArrayNode members) {
    ObjectNode canvas = Json.MAPPER.createObjectNode();
    canvas.put("task", "celery." + kind);
    canvas.putArray("args");
    canvas.putObject("kwargs").set("tasks", members);
    canvas.putObject("options");
    canvas.put("subtask_type", kind);
    canvas.put("immutable", false);
    return canvas;
  }

  /** Celery's dict of a chord. */
  private static ObjectNode chord(ArrayNode header, ObjectNode body) {
    ObjectNode canvas = Json.MAPPER.createObjectNode();
    canvas.put("task", "celery.chord");
    canvas.putArray("args");
    ObjectNode kwargs = canvas.putObject("kwargs");
    kwargs.putObject("kwargs");
    kwargs.set("header", header);
    kwargs.set("body", body);
    canvas.putObject("options");
    canvas.put("subtask_type", SignatureDict.CHORD);
    canvas.put("immutable", false);
    return canvas;
  }

  /** The body as JSON Schema, for the OpenAPI document: any of the forms, nested. */
  static ObjectNode jsonSchema() {
    ObjectNode members = JsonSchema.array("", JsonSchema.ref(SCHEMA)).put("minItems", 1);
    Map<String, ObjectNode> chord = new LinkedHashMap<>();
    chord.put("header", members.deepCopy().put("description", "run in parallel"));
    chord.put(
        "body",
        JsonSchema.ref(SCHEMA).put("description", "called with the list of the header's results"));
    return JsonSchema.oneOf(
        "A workflow: a task, a chain, a group or a chord, nested at most "
            + MAX_DEPTH
            + " levels and with at most "
            + MAX_TASKS
            + " tasks. Celery's own signature dict is read too.",
        JsonSchema.ref(TASK_SCHEMA),
        JsonSchema.object(
            "Steps in order; each one's result goes first in the next one's args.",
            Map.of("chain", members.deepCopy()),
            "chain"),
        JsonSchema.object(
            "Members run in parallel; the result is the list of theirs, in order.",
            Map.of("group", members.deepCopy()),
            "group"),
        JsonSchema.object(
            "A group whose results, in order, go to the body.",
            Map.of("chord", JsonSchema.object("", chord, "header", "body")),
            "chord"),
        JsonSchema.ref(CELERY_SCHEMA));
  }

  /** A task of the short form. */
  static ObjectNode taskSchema() {
    Map<String, ObjectNode> fields = new LinkedHashMap<>();
    fields.put(
        "task",
        JsonSchema.string("the name of the task to run, e.g. demo.add")
            .put("pattern", TaskSubmission.TASK_NAME.pattern()));
    fields.put(
        "args",
        JsonSchema.array(
            "positional arguments; the previous step's result goes before them", null));
    fields.put("kwargs", JsonSchema.anyObject("keyword arguments"));
    fields.put(
        "queue",
        JsonSchema.string("the queue to send it to; default celery")
            .put("pattern", TaskSubmission.QUEUE_NAME.pattern()));
    fields.put(
        "immutable",
        JsonSchema.bool("when true, the previous step's result is not passed to it")
            .put("default", false));
    fields.put(
        "options",
        JsonSchema.anyObject(
            "Celery's apply_async options: task_id, countdown, eta, expires, time_limit,"
                + " soft_time_limit, priority, link, link_error"));
    return JsonSchema.object("A task of a workflow; only task is required.", fields, "task");
  }

  /** Celery's signature dict, as Python's {@code json.dumps(signature)} prints it. */
  static ObjectNode celerySchema() {
    Map<String, ObjectNode> fields = new LinkedHashMap<>();
    fields.put(
        "task",
        JsonSchema.string(
            "the task's name; celery.chain, celery.group or celery.chord for a container"));
    fields.put("args", JsonSchema.array("positional arguments", null));
    fields.put(
        "kwargs",
        JsonSchema.anyObject(
            "keyword arguments; a chain's or group's members are in tasks, a chord's in header"
                + " and body"));
    fields.put("options", JsonSchema.anyObject("Celery's apply_async options"));
    ObjectNode type = JsonSchema.string("null for a task").put("nullable", true);
    ArrayNode types = type.putArray("enum");
    types.addNull();
    SUBTASK_TYPES.stream().sorted().forEach(types::add);
    fields.put("subtask_type", type);
    fields.put("immutable", JsonSchema.bool("when true, the previous result is not passed to it"));
    ObjectNode schema =
        JsonSchema.object(
            "Celery's signature dict (e.g. json.dumps(chain(add.s(1, 2), add.s(3)))).",
            fields,
            "task",
            "subtask_type");
    // Celery versions add fields (e.g. chord_size); they are kept as they are.
    schema.put("additionalProperties", true);
    return schema;
  }
}
