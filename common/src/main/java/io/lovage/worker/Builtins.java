package io.lovage.worker;

import io.lovage.TaskArgumentException;
import io.lovage.TaskCall;
import io.lovage.TaskRegistry;
import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import io.lovage.protocol.TaskMessage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;

/**
 * Celery's built-in tasks that a Celery client sends to workers: {@code celery.starmap} ({@code
 * sig.starmap(items)}, {@code xstarmap}), {@code celery.map} ({@code sig.map(items)}), {@code
 * celery.chunks} and {@code celery.accumulate}. Like Celery's, they run the named task inline, once
 * per item, in the worker that took the message, and answer the list of results. A task the user
 * registers under one of these names wins.
 */
final class Builtins {
  static final String STARMAP = "celery.starmap";
  static final String MAP = "celery.map";
  static final String CHUNKS = "celery.chunks";
  static final String ACCUMULATE = "celery.accumulate";

  private final TaskRegistry tasks;

  private Builtins(TaskRegistry tasks) {
    this.tasks = tasks;
  }

  /** The user's tasks and the built-ins. */
  static TaskRegistry addTo(TaskRegistry user) {
    Builtins builtins = new Builtins(user);
    return TaskRegistry.builder()
        .registerAll(user)
        .registerIfAbsent(STARMAP, builtins::starmap)
        .registerIfAbsent(MAP, builtins::map)
        .registerIfAbsent(CHUNKS, builtins::chunks)
        .registerIfAbsent(ACCUMULATE, Builtins::accumulate)
        .build();
  }

  /** {@code [task(*item) for item in it]}. */
  private Object starmap(TaskCall call) throws Exception {
    return starmap(signature(call), items(call), call);
  }

  /** {@code [task(item) for item in it]}. */
  private Object map(TaskCall call) throws Exception {
    JsonNode signature = signature(call);
    List<Object> results = new ArrayList<>();
    for (JsonNode item : items(call)) {
      ArrayNode args = Json.MAPPER.createArrayNode();
      args.add(item);
      results.add(runInline(signature, args, call));
    }
    return results;
  }

  /** {@code it} in chunks of {@code n} items, each chunk a starmap: the list of their lists. */
  private Object chunks(TaskCall call) throws Exception {
    JsonNode signature = signature(call);
    List<JsonNode> items = items(call);
    int n = call.arg(2, "n", Integer.class);
    if (n <= 0) {
      throw new TaskArgumentException(CHUNKS + "() n must be positive, got " + n);
    }
    List<Object> results = new ArrayList<>();
    for (int from = 0; from < items.size(); from += n) {
      results.add(starmap(signature, items.subList(from, Math.min(items.size(), from + n)), call));
    }
    return results;
  }

  /** Celery's {@code accumulate(*args, index=None)}: the args, or the one at {@code index}. */
  private static Object accumulate(TaskCall call) {
    JsonNode index = call.message().kwargs().get("index");
    ArrayNode args = call.message().args();
    return index == null || index.isNull() ? args : args.get(index.asInt());
  }

  private List<Object> starmap(JsonNode signature, List<JsonNode> items, TaskCall call)
      throws Exception {
    List<Object> results = new ArrayList<>();
    for (JsonNode item : items) {
      if (!item.isArray()) {
        throw new TaskArgumentException(
            call.name() + "() each item must be a list of arguments, got " + item);
      }
      results.add(runInline(signature, (ArrayNode) item, call));
    }
    return results;
  }

  private Object runInline(JsonNode signature, ArrayNode extraArgs, TaskCall call)
      throws Exception {
    TaskMessage template = SignatureDict.message(signature, null, Instant.now()).build();
    ArrayNode args = template.args().deepCopy();
    args.addAll(extraArgs);
    TaskMessage inline =
        template.toBuilder().args(args).parentId(call.id()).rootId(call.message().rootId()).build();
    TaskRegistry.TaskDefinition definition =
        tasks
            .find(inline.task())
            .orElseThrow(
                () ->
                    new TaskArgumentException(
                        call.name() + "(): unknown task '" + inline.task() + "'"));
    return definition.task().run(new TaskCall(inline));
  }

  private static JsonNode signature(TaskCall call) {
    JsonNode signature = call.argNode(0, "task");
    if (signature == null || !signature.isObject() || !signature.path("task").isString()) {
      throw new TaskArgumentException(call.name() + "() needs 'task', a signature dict");
    }
    return signature;
  }

  private static List<JsonNode> items(TaskCall call) {
    JsonNode it = call.argNode(1, "it");
    if (it == null || !it.isArray()) {
      throw new TaskArgumentException(call.name() + "() needs 'it', a list");
    }
    List<JsonNode> items = new ArrayList<>();
    it.forEach(items::add);
    return items;
  }
}
