package io.lovage.producer;

import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The shape of a frozen workflow: its tasks (id and name) in their chains, groups and chords. It is
 * what a producer keeps of a workflow, and what it appends to the event stream for every replica to
 * read: the structure and the ids, not the arguments (they travel in the task messages).
 *
 * <p>As JSON: a task is {@code {"id", "task"}}, a chain or group {@code {"type": "chain", "tasks":
 * [...]}}, a chord {@code {"type": "chord", "header": [...], "body": {...}}}.
 */
sealed interface WorkflowTree {

  record Task(String id, String name) implements WorkflowTree {}

  /** Steps in order; each one's result goes first in the next one's args. */
  record Chain(List<WorkflowTree> steps) implements WorkflowTree {
    public Chain {
      steps = List.copyOf(steps);
    }
  }

  /** Members run in parallel. */
  record Group(List<WorkflowTree> members) implements WorkflowTree {
    public Group {
      members = List.copyOf(members);
    }
  }

  /** A group whose results go to the body. */
  record Chord(List<WorkflowTree> header, WorkflowTree body) implements WorkflowTree {
    public Chord {
      header = List.copyOf(header);
    }
  }

  /** The tree of a frozen canvas (Celery's signature dict in which every task has its id). */
  static WorkflowTree of(JsonNode frozen) {
    String kind = SignatureDict.kind(frozen);
    if (SignatureDict.CHAIN.equals(kind)) {
      return new Chain(all(SignatureDict.tasks(frozen)));
    }
    if (SignatureDict.GROUP.equals(kind)) {
      return new Group(all(SignatureDict.tasks(frozen)));
    }
    if (SignatureDict.CHORD.equals(kind)) {
      return new Chord(all(SignatureDict.header(frozen)), of(SignatureDict.body(frozen)));
    }
    String id = SignatureDict.taskId(frozen);
    if (id == null) {
      throw new IllegalArgumentException("a task of a workflow is not frozen: " + frozen);
    }
    return new Task(id, frozen.path("task").asString());
  }

  private static List<WorkflowTree> all(List<JsonNode> signatures) {
    List<WorkflowTree> trees = new ArrayList<>(signatures.size());
    signatures.forEach(s -> trees.add(of(s)));
    return trees;
  }

  /** How many tasks it has. */
  default int size() {
    return switch (this) {
      case Task t -> 1;
      case Chain c -> c.steps().stream().mapToInt(WorkflowTree::size).sum();
      case Group g -> g.members().stream().mapToInt(WorkflowTree::size).sum();
      case Chord c -> c.header().stream().mapToInt(WorkflowTree::size).sum() + c.body().size();
    };
  }

  /** Its tasks' ids, in the tree's order. */
  default List<String> taskIds() {
    List<String> ids = new ArrayList<>(size());
    collect(this, ids);
    return ids;
  }

  private static void collect(WorkflowTree tree, List<String> ids) {
    switch (tree) {
      case Task t -> ids.add(t.id());
      case Chain c -> c.steps().forEach(s -> collect(s, ids));
      case Group g -> g.members().forEach(m -> collect(m, ids));
      case Chord c -> {
        c.header().forEach(h -> collect(h, ids));
        collect(c.body(), ids);
      }
    }
  }

  default ObjectNode toJson() {
    ObjectNode json = Json.MAPPER.createObjectNode();
    switch (this) {
      case Task t -> json.put("id", t.id()).put("task", t.name());
      case Chain c -> list(json.put("type", SignatureDict.CHAIN).putArray("tasks"), c.steps());
      case Group g -> list(json.put("type", SignatureDict.GROUP).putArray("tasks"), g.members());
      case Chord c -> {
        list(json.put("type", SignatureDict.CHORD).putArray("header"), c.header());
        json.set("body", c.body().toJson());
      }
    }
    return json;
  }

  private static void list(ArrayNode into, List<WorkflowTree> trees) {
    trees.forEach(tree -> into.add(tree.toJson()));
  }

  /** Reads {@link #toJson()}'s form; an {@link IllegalArgumentException} says what is wrong. */
  static WorkflowTree fromJson(JsonNode json) {
    String type = json.path("type").asString(null);
    if (type == null) {
      String id = json.path("id").asString(null);
      String task = json.path("task").asString(null);
      if (id == null || task == null) {
        throw new IllegalArgumentException("a task of a workflow needs 'id' and 'task': " + json);
      }
      return new Task(id, task);
    }
    return switch (type) {
      case SignatureDict.CHAIN -> new Chain(fromJson(json.path("tasks"), "tasks"));
      case SignatureDict.GROUP -> new Group(fromJson(json.path("tasks"), "tasks"));
      case SignatureDict.CHORD -> {
        if (!json.path("body").isObject()) {
          throw new IllegalArgumentException("a chord of a workflow needs a 'body'");
        }
        yield new Chord(fromJson(json.path("header"), "header"), fromJson(json.get("body")));
      }
      default -> throw new IllegalArgumentException("unknown type of workflow part '" + type + "'");
    };
  }

  private static List<WorkflowTree> fromJson(JsonNode list, String field) {
    if (!list.isArray() || list.isEmpty()) {
      throw new IllegalArgumentException("'" + field + "' of a workflow part must be a list");
    }
    List<WorkflowTree> trees = new ArrayList<>(list.size());
    list.forEach(item -> trees.add(fromJson(item)));
    return trees;
  }
}
