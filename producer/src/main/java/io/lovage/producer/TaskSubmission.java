package io.lovage.producer;

import io.lovage.broker.LovageTopology;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.service.Problem;
import java.util.Iterator;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The body of {@code POST /tasks}, checked field by field: {@code task} (required), {@code args},
 * {@code kwargs}, {@code queue}. Anything else is an error that points at the field.
 */
record TaskSubmission(String task, ArrayNode args, ObjectNode kwargs, String queue) {
  private static final Set<String> FIELDS = Set.of("task", "args", "kwargs", "queue");
  private static final Pattern TASK_NAME = Pattern.compile("[\\w.:\\-]{1,200}");
  private static final Pattern QUEUE_NAME = Pattern.compile("[\\w.:\\-]{1,200}");

  /** A field of the request that is wrong; becomes a 400 problem with a pointer. */
  static final class Invalid extends Exception {
    final Problem problem;

    Invalid(String pointer, String detail) {
      super(detail);
      this.problem = Problem.badRequest(pointer, detail);
    }
  }

  static TaskSubmission parse(String body) throws Invalid {
    JsonNode json;
    try {
      json = Json.MAPPER.readTree(body == null ? "" : body);
    } catch (JacksonException e) {
      throw new Invalid(null, "request body is not valid JSON: " + e.getOriginalMessage());
    }
    if (json == null || !json.isObject()) {
      throw new Invalid("", "request body must be a JSON object");
    }
    for (Iterator<String> names = json.propertyNames().iterator(); names.hasNext(); ) {
      String name = names.next();
      if (!FIELDS.contains(name)) {
        throw new Invalid(
            "/" + name, "unknown field '" + name + "'; allowed: task, args, kwargs, queue");
      }
    }
    JsonNode task = json.get("task");
    if (task == null || task.isNull()) {
      throw new Invalid("/task", "field 'task' is required: the name of the task to run");
    }
    if (!task.isString() || !TASK_NAME.matcher(task.stringValue()).matches()) {
      throw new Invalid("/task", "field 'task' must be a task name such as \"demo.add\"");
    }
    JsonNode args = json.get("args");
    if (args != null && !args.isNull() && !args.isArray()) {
      throw new Invalid("/args", "field 'args' must be a JSON array");
    }
    JsonNode kwargs = json.get("kwargs");
    if (kwargs != null && !kwargs.isNull() && !kwargs.isObject()) {
      throw new Invalid("/kwargs", "field 'kwargs' must be a JSON object");
    }
    JsonNode queue = json.get("queue");
    String queueName = LovageTopology.DEFAULT_QUEUE;
    if (queue != null && !queue.isNull()) {
      if (!queue.isString()
          || !QUEUE_NAME.matcher(queue.stringValue()).matches()
          || queue.stringValue().startsWith("amq.")) {
        throw new Invalid(
            "/queue",
            "field 'queue' must be a queue name of letters, digits, '.', '_', ':' or '-'");
      }
      queueName = queue.stringValue();
    }
    return new TaskSubmission(
        task.stringValue(),
        args == null || args.isNull() ? null : (ArrayNode) args,
        kwargs == null || kwargs.isNull() ? null : (ObjectNode) kwargs,
        queueName);
  }

  TaskMessage toMessage() {
    return TaskMessage.builder(task).args(args).kwargs(kwargs).build();
  }
}
