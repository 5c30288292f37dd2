package io.lovage.producer;

import io.lovage.TaskError;
import io.lovage.TaskState;
import io.lovage.protocol.Json;
import io.lovage.result.TaskRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A workflow's state, folded from its tasks' states: what {@code GET /workflows/{id}} answers.
 *
 * <ul>
 *   <li>a task: its own state (PENDING while no event of it is known); its result when SUCCESS, its
 *       error when it failed (FAILURE, REVOKED, REJECTED);
 *   <li>a chain: the first failed step's state and error; else its last step's state and result
 *       once that step has moved; else STARTED once any step has, else PENDING;
 *   <li>a group: the first failed member's state and error; else SUCCESS with the list of the
 *       members' results, in order, once all succeeded; else STARTED once any member has moved,
 *       else PENDING;
 *   <li>a chord: the first failed header member's (the body will fail with ChordError) or the
 *       body's state and error; else the body's state and result once it has moved; else STARTED
 *       once any header member has, else PENDING.
 * </ul>
 *
 * A failed part ends a workflow: no later step runs. The answer is the root part as JSON with the
 * workflow's id: {@code {"id", "type", "state", "result", "error", "tasks": [...]}} (a chord has
 * {@code "header"} and {@code "body"} instead of {@code "tasks"}; a one-task workflow is of type
 * {@code task} with that task in {@code tasks}). Each task is {@code {"id", "task", "state"}}, with
 * {@code "result"} when it succeeded and {@code "error"} when it failed; each chain, group or chord
 * is {@code {"type", "state", "tasks" | "header" and "body"}}.
 */
final class WorkflowReport {
  private WorkflowReport() {}

  /** A part's outcome and its JSON; {@code failedTask} is the task whose error it is. */
  private record Outcome(
      TaskState state, JsonNode result, TaskError error, String failedTask, ObjectNode json) {
    boolean failed() {
      return state.isFinal() && state != TaskState.SUCCESS;
    }

    boolean moved() {
      return state != TaskState.PENDING;
    }
  }

  static ObjectNode of(
      String id, WorkflowTree tree, Function<String, Optional<TaskRecord>> records) {
    Outcome root = outcome(tree, records);
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("id", id);
    if (tree instanceof WorkflowTree.Task) {
      json.put("type", "task");
    } else {
      json.set("type", root.json().get("type"));
    }
    json.put("state", root.state().name());
    json.set("result", root.result() == null ? Json.MAPPER.nullNode() : root.result());
    if (root.error() == null) {
      json.putNull("error");
    } else {
      error(json.putObject("error"), root.error()).put("taskId", root.failedTask());
    }
    if (tree instanceof WorkflowTree.Task) {
      json.putArray("tasks").add(root.json());
    } else {
      root.json().properties().stream()
          .filter(e -> !e.getKey().equals("type") && !e.getKey().equals("state"))
          .forEach(e -> json.set(e.getKey(), e.getValue()));
    }
    return json;
  }

  private static Outcome outcome(
      WorkflowTree tree, Function<String, Optional<TaskRecord>> records) {
    return switch (tree) {
      case WorkflowTree.Task t -> task(t, records.apply(t.id()).orElse(null));
      case WorkflowTree.Chain c -> {
        List<Outcome> steps = all(c.steps(), records);
        yield container(
            "chain", decided(steps, steps.getLast()), json -> list(json, "tasks", steps));
      }
      case WorkflowTree.Group g -> {
        List<Outcome> members = all(g.members(), records);
        yield container("group", group(members), json -> list(json, "tasks", members));
      }
      case WorkflowTree.Chord c -> {
        List<Outcome> header = all(c.header(), records);
        Outcome body = outcome(c.body(), records);
        List<Outcome> parts = new ArrayList<>(header);
        parts.add(body);
        yield container(
            "chord",
            decided(parts, body),
            json -> {
              list(json, "header", header);
              json.set("body", body.json());
            });
      }
    };
  }

  private static List<Outcome> all(
      List<WorkflowTree> trees, Function<String, Optional<TaskRecord>> records) {
    List<Outcome> outcomes = new ArrayList<>(trees.size());
    trees.forEach(tree -> outcomes.add(outcome(tree, records)));
    return outcomes;
  }

  private static Outcome task(WorkflowTree.Task task, TaskRecord record) {
    TaskState state = record == null ? TaskState.PENDING : record.state();
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("id", task.id());
    json.put("task", task.name());
    json.put("state", state.name());
    if (state == TaskState.SUCCESS) {
      JsonNode result = record.result() == null ? Json.MAPPER.nullNode() : record.result();
      json.set("result", result);
      return new Outcome(state, result, null, null, json);
    }
    if (state.isFinal() && record.error() != null) {
      error(json.putObject("error"), record.error());
      return new Outcome(state, null, record.error(), task.id(), json);
    }
    return new Outcome(state, null, null, null, json);
  }

  /** A container's state and result, before its JSON: its failed part's, or its own. */
  private record Verdict(TaskState state, JsonNode result, Outcome failed) {}

  /** A chain or chord: decided by a failed part, else by the part whose result it is. */
  private static Verdict decided(List<Outcome> parts, Outcome decisive) {
    Optional<Outcome> failed = parts.stream().filter(Outcome::failed).findFirst();
    if (failed.isPresent()) {
      return new Verdict(failed.get().state(), null, failed.get());
    }
    if (decisive.moved()) {
      return new Verdict(decisive.state(), decisive.result(), null);
    }
    return new Verdict(moving(parts), null, null);
  }

  private static Verdict group(List<Outcome> members) {
    Optional<Outcome> failed = members.stream().filter(Outcome::failed).findFirst();
    if (failed.isPresent()) {
      return new Verdict(failed.get().state(), null, failed.get());
    }
    if (members.stream().allMatch(m -> m.state() == TaskState.SUCCESS)) {
      ArrayNode results = Json.MAPPER.createArrayNode();
      members.forEach(m -> results.add(m.result()));
      return new Verdict(TaskState.SUCCESS, results, null);
    }
    return new Verdict(moving(members), null, null);
  }

  /** STARTED once any part has moved, else PENDING. */
  private static TaskState moving(List<Outcome> parts) {
    return parts.stream().anyMatch(Outcome::moved) ? TaskState.STARTED : TaskState.PENDING;
  }

  private static Outcome container(
      String type, Verdict verdict, java.util.function.Consumer<ObjectNode> members) {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("type", type);
    json.put("state", verdict.state().name());
    members.accept(json);
    Outcome failed = verdict.failed();
    return failed == null
        ? new Outcome(verdict.state(), verdict.result(), null, null, json)
        : new Outcome(verdict.state(), null, failed.error(), failed.failedTask(), json);
  }

  private static void list(ObjectNode into, String field, List<Outcome> parts) {
    ArrayNode list = into.putArray(field);
    parts.forEach(p -> list.add(p.json()));
  }

  private static ObjectNode error(ObjectNode into, TaskError error) {
    into.put("type", error.type());
    into.put("message", error.message());
    into.put("traceback", error.traceback());
    return into;
  }
}
