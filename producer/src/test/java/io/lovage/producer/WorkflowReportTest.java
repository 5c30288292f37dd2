package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskError;
import io.lovage.TaskState;
import io.lovage.protocol.Json;
import io.lovage.result.TaskRecord;
import io.lovage.workflow.CanvasSender;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The workflow's state folded from its tasks' states, without a broker. */
class WorkflowReportTest {
  private final Map<String, TaskRecord> records = new HashMap<>();

  @Test
  void aWorkflowWhoseTasksAreNotKnownYetIsPendingWithEveryTaskPending() throws Exception {
    WorkflowTree tree = tree("{\"chain\": [{\"task\": \"a\"}, {\"group\": [{\"task\": \"b\"}]}]}");

    JsonNode report = report(tree);

    assertEquals("chain", report.get("type").asString());
    assertEquals("PENDING", report.get("state").asString());
    assertTrue(report.get("result").isNull());
    assertEquals("PENDING", report.at("/tasks/0/state").asString());
    assertEquals("a", report.at("/tasks/0/task").asString());
    assertEquals("group", report.at("/tasks/1/type").asString());
    assertEquals("PENDING", report.at("/tasks/1/tasks/0/state").asString());
  }

  @Test
  void aChainIsStartedWhileItsFirstStepsRunAndThenItsLastStepsStateAndResult() throws Exception {
    WorkflowTree.Chain chain =
        (WorkflowTree.Chain) tree("{\"chain\": [{\"task\": \"a\"}, {\"task\": \"b\"}]}");
    succeeded(chain.steps().get(0), "3");

    assertEquals("STARTED", report(chain).get("state").asString());

    succeeded(chain.steps().get(1), "6");
    JsonNode report = report(chain);
    assertEquals("SUCCESS", report.get("state").asString());
    assertEquals(6, report.get("result").asInt());
    assertEquals(3, report.at("/tasks/0/result").asInt());
  }

  @Test
  void aFailedStepFailsTheChainWithThatStepsErrorAndNamesIt() throws Exception {
    WorkflowTree.Chain chain =
        (WorkflowTree.Chain)
            tree("{\"chain\": [{\"task\": \"a\"}, {\"task\": \"b\"}, {\"task\": \"c\"}]}");
    succeeded(chain.steps().get(0), "1");
    failed(chain.steps().get(1), "ValueError", "boom");

    JsonNode report = report(chain);

    assertEquals("FAILURE", report.get("state").asString());
    assertEquals("ValueError", report.at("/error/type").asString());
    assertEquals("boom", report.at("/error/message").asString());
    assertEquals(id(chain.steps().get(1)), report.at("/error/taskId").asString());
    assertEquals("boom", report.at("/tasks/1/error/message").asString());
    assertEquals("PENDING", report.at("/tasks/2/state").asString());
  }

  @Test
  void aGroupSucceedsWithItsMembersResultsInOrderOnlyOnceAllSucceeded() throws Exception {
    WorkflowTree.Group group =
        (WorkflowTree.Group)
            tree("{\"group\": [{\"task\": \"a\"}, {\"chain\": [{\"task\": \"b\"}]}]}");
    succeeded(group.members().get(1), "20");

    assertEquals("STARTED", report(group).get("state").asString());

    succeeded(group.members().get(0), "10");
    JsonNode report = report(group);
    assertEquals("SUCCESS", report.get("state").asString());
    assertEquals(Json.MAPPER.readTree("[10, 20]"), report.get("result"));
  }

  @Test
  void aChordIsItsBodysStateAndResultAndAFailedHeaderTaskFailsIt() throws Exception {
    WorkflowTree.Chord chord =
        (WorkflowTree.Chord)
            tree(
                "{\"chord\": {\"header\": [{\"task\": \"a\"}, {\"task\": \"b\"}],"
                    + " \"body\": {\"task\": \"sum\"}}}");
    succeeded(chord.header().get(0), "1");
    succeeded(chord.header().get(1), "2");
    assertEquals("STARTED", report(chord).get("state").asString(), "header done, body not yet");

    succeeded(chord.body(), "3");
    JsonNode report = report(chord);
    assertEquals("chord", report.get("type").asString());
    assertEquals("SUCCESS", report.get("state").asString());
    assertEquals(3, report.get("result").asInt());
    assertEquals("SUCCESS", report.at("/body/state").asString());
    assertEquals(2, report.get("header").size());

    records.clear();
    failed(chord.header().get(1), "KeyError", "b");
    assertEquals("FAILURE", report(chord).get("state").asString());
    assertEquals(id(chord.header().get(1)), report(chord).at("/error/taskId").asString());
  }

  @Test
  void aOneTaskWorkflowIsOfTypeTaskWithThatTaskInItsTasks() throws Exception {
    WorkflowTree task = tree("{\"task\": \"a\"}");
    succeeded(task, "\"done\"");

    JsonNode report = report(task);

    assertEquals("task", report.get("type").asString());
    assertEquals("SUCCESS", report.get("state").asString());
    assertEquals("done", report.get("result").asString());
    assertEquals(id(task), report.at("/tasks/0/id").asString());
    assertEquals("wf", report.get("id").asString());
  }

  @Test
  void theTreeReadBackFromItsJsonIsTheSame() throws Exception {
    WorkflowTree tree =
        tree(
            "{\"chain\": [{\"task\": \"a\"}, {\"chord\": {\"header\": [{\"group\": [{\"task\":"
                + " \"b\"}]}], \"body\": {\"chain\": [{\"task\": \"c\"}]}}}]}");

    assertEquals(tree, WorkflowTree.fromJson(tree.toJson()));
    assertEquals(3, tree.size());
  }

  private JsonNode report(WorkflowTree tree) {
    return WorkflowReport.of("wf", tree, id -> Optional.ofNullable(records.get(id)));
  }

  private static WorkflowTree tree(String workflow) throws Exception {
    return WorkflowTree.of(CanvasSender.freeze(WorkflowSubmission.parse(workflow).canvas(), null));
  }

  private static String id(WorkflowTree tree) {
    return switch (tree) {
      case WorkflowTree.Task t -> t.id();
      case WorkflowTree.Chain c -> id(c.steps().getLast());
      default -> throw new IllegalArgumentException(tree.toString());
    };
  }

  private void succeeded(WorkflowTree tree, String result) throws Exception {
    record(id(tree), TaskState.SUCCESS, Json.MAPPER.readTree(result), null);
  }

  private void failed(WorkflowTree tree, String type, String message) {
    record(id(tree), TaskState.FAILURE, null, new TaskError(type, null, message, "Traceback"));
  }

  private void record(String id, TaskState state, JsonNode result, TaskError error) {
    records.put(
        id,
        new TaskRecord(
            id, "t", state, result, error, 0, "celery", null, null, null, null, null, null, null,
            null, null));
  }
}
