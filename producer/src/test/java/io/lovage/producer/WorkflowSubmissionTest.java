package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import io.micronaut.http.HttpStatus;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

class WorkflowSubmissionTest {
  /** What Python prints for {@code json.dumps(chain(add.s(1, 2), add.s(3)))}. */
  static final String CELERY_CHAIN =
      """
      {"task": "celery.chain", "args": [], "kwargs": {"tasks": [
        {"task": "demo.add", "args": [1, 2], "kwargs": {}, "options": {}, "subtask_type": null, "immutable": false, "chord_size": null},
        {"task": "demo.add", "args": [3], "kwargs": {}, "options": {}, "subtask_type": null, "immutable": false, "chord_size": null}]},
       "options": {}, "subtask_type": "chain", "immutable": false, "chord_size": null}
      """;

  @Test
  void aCeleryChainDictIsReadAsItIsWithTheFieldsCeleryAdds() throws Exception {
    WorkflowSubmission s = WorkflowSubmission.parse(CELERY_CHAIN);

    assertEquals(Json.MAPPER.readTree(CELERY_CHAIN), s.canvas());
    assertEquals(2, s.tasks());
  }

  @Test
  void aCeleryChordDictWithAGroupInItsHeaderIsRead() throws Exception {
    String add =
        "{\"task\": \"demo.add\", \"args\": [1, 1], \"kwargs\": {}, \"options\": {},"
            + " \"subtask_type\": null, \"immutable\": false}";
    String group =
        "{\"task\": \"celery.group\", \"args\": [], \"kwargs\": {\"tasks\": ["
            + add
            + ", "
            + add
            + "]}, \"options\": {}, \"subtask_type\": \"group\", \"immutable\": false}";
    String chord =
        "{\"task\": \"celery.chord\", \"args\": [], \"kwargs\": {\"kwargs\": {}, \"header\": ["
            + add
            + ", "
            + group
            + "], \"body\": "
            + add.replace("demo.add", "demo.tsum")
            + "}, \"options\": {}, \"subtask_type\": \"chord\", \"immutable\": false}";

    WorkflowSubmission s = WorkflowSubmission.parse(chord);

    assertEquals(Json.MAPPER.readTree(chord), s.canvas());
    assertEquals(4, s.tasks());
  }

  @Test
  void theShortFormBecomesCelerysDictWithTheQueueInTheOptions() throws Exception {
    WorkflowSubmission s =
        WorkflowSubmission.parse(
            "{\"chain\": [{\"task\": \"demo.add\", \"args\": [1, 2], \"queue\": \"high\"},"
                + " {\"task\": \"demo.add\", \"args\": [3], \"immutable\": true,"
                + " \"options\": {\"countdown\": 5}}]}");

    ObjectNode canvas = s.canvas();
    assertEquals("chain", SignatureDict.kind(canvas));
    assertEquals("celery.chain", canvas.get("task").asString());
    JsonNode first = SignatureDict.tasks(canvas).get(0);
    assertEquals("high", SignatureDict.queue(first));
    assertEquals("[1,2]", first.get("args").toString());
    assertEquals("{}", first.get("kwargs").toString());
    assertTrue(first.get("subtask_type").isNull());
    JsonNode second = SignatureDict.tasks(canvas).get(1);
    assertTrue(SignatureDict.immutable(second));
    assertEquals(5, second.at("/options/countdown").asInt());
  }

  @Test
  void aShortFormChordBecomesCelerysChordOfHeaderAndBody() throws Exception {
    WorkflowSubmission s =
        WorkflowSubmission.parse(
            "{\"chord\": {\"header\": [{\"task\": \"demo.add\", \"args\": [1, 1]},"
                + " {\"group\": [{\"task\": \"demo.add\", \"args\": [2, 2]}]}],"
                + " \"body\": {\"task\": \"demo.tsum\"}}}");

    assertEquals("chord", SignatureDict.kind(s.canvas()));
    assertEquals(2, SignatureDict.header(s.canvas()).size());
    assertEquals("group", SignatureDict.kind(SignatureDict.header(s.canvas()).get(1)));
    assertEquals("demo.tsum", SignatureDict.body(s.canvas()).get("task").asString());
    assertEquals(3, s.tasks());
  }

  @Test
  void aCeleryTaskDictIsAOneTaskWorkflowAndXmapIsATaskOfItsOwn() throws Exception {
    WorkflowSubmission task =
        WorkflowSubmission.parse(
            "{\"task\": \"demo.add\", \"args\": [1, 2], \"kwargs\": {}, \"options\": {},"
                + " \"subtask_type\": null, \"immutable\": false}");
    WorkflowSubmission map =
        WorkflowSubmission.parse(
            "{\"task\": \"celery.map\", \"args\": [], \"kwargs\": {\"task\": {\"task\":"
                + " \"demo.double\", \"args\": [], \"kwargs\": {}, \"options\": {},"
                + " \"subtask_type\": null, \"immutable\": false}, \"it\": [1, 2]},"
                + " \"options\": {}, \"subtask_type\": \"xmap\", \"immutable\": true}");

    assertNull(SignatureDict.kind(task.canvas()));
    assertEquals(1, task.tasks());
    assertNull(SignatureDict.kind(map.canvas()));
    assertEquals(1, map.tasks());
  }

  @Test
  void anEmptyChainGroupOrChordHeaderIsRefusedWithAPointer() {
    assertProblem("{\"group\": []}", "/group");
    assertProblem("{\"chain\": [{\"chain\": []}]}", "/chain/0/chain");
    assertProblem("{\"chord\": {\"header\": [], \"body\": {\"task\": \"t\"}}}", "/chord/header");
    assertProblem(
        "{\"task\": \"celery.chain\", \"args\": [], \"kwargs\": {\"tasks\": []}, \"options\": {},"
            + " \"subtask_type\": \"chain\", \"immutable\": false}",
        "/kwargs/tasks");
    assertProblem(
        "{\"task\": \"celery.chord\", \"kwargs\": {\"header\": [], \"body\": {\"task\": \"t\"}},"
            + " \"subtask_type\": \"chord\"}",
        "/kwargs/header");
  }

  @Test
  void aChordWithoutABodyIsRefused() {
    assertProblem("{\"chord\": {\"header\": [{\"task\": \"t\"}]}}", "/chord/body");
    assertProblem(
        "{\"task\": \"celery.chord\", \"kwargs\": {\"header\": [{\"task\": \"t\"}], \"body\":"
            + " null}, \"subtask_type\": \"chord\"}",
        "/kwargs/body");
  }

  @Test
  void anUnknownSubtaskTypeIsRefused() {
    assertProblem(
        "{\"task\": \"celery.chain\", \"kwargs\": {\"tasks\": [{\"task\": \"t\"}]},"
            + " \"subtask_type\": \"pipeline\"}",
        "/subtask_type");
    assertProblem(
        "{\"group\": [{\"task\": \"t\", \"args\": [], \"subtask_type\": 3}]}",
        "/group/0/subtask_type");
  }

  @Test
  void aTaskWithoutAStringNameIsRefused() {
    assertProblem("{\"chain\": [{\"task\": \"t\"}, {\"args\": [1]}]}", "/chain/1/task");
    assertProblem("{\"task\": 42}", "/task");
    assertProblem("{}", "/task");
    assertProblem("{\"group\": [{\"task\": \"a b\"}]}", "/group/0/task");
  }

  @Test
  void argsThatAreNotAnArrayAndKwargsThatAreNotAnObjectAreRefused() {
    assertProblem("{\"group\": [{\"task\": \"t\", \"args\": {\"x\": 1}}]}", "/group/0/args");
    assertProblem(
        "{\"task\": \"celery.group\", \"kwargs\": {\"tasks\": [{\"task\": \"t\", \"kwargs\": [1],"
            + " \"subtask_type\": null}]}, \"subtask_type\": \"group\"}",
        "/kwargs/tasks/0/kwargs");
    assertProblem("{\"chain\": [{\"task\": \"t\"}, 5]}", "/chain/1");
  }

  @Test
  void unknownFieldsOfTheShortFormAreRefusedWithAPointer() {
    assertProblem("{\"chain\": [{\"task\": \"t\", \"countdown\": 5}]}", "/chain/0/countdown");
    assertProblem("{\"chain\": [{\"task\": \"t\"}], \"queue\": \"q\"}", "/queue");
    assertProblem(
        "{\"chord\": {\"header\": [{\"task\": \"t\"}], \"body\": {\"task\": \"t\"}, \"x\": 1}}",
        "/chord/x");
  }

  @Test
  void badOptionsAreRefusedWithPointersBeforeAnythingIsSent() {
    assertProblem("{\"chain\": [{\"task\": \"t\", \"queue\": \"amq.direct\"}]}", "/chain/0/queue");
    assertProblem(
        "{\"chain\": [{\"task\": \"t\", \"options\": {\"eta\": \"tomorrow\"}}]}",
        "/chain/0/options/eta");
    assertProblem(
        "{\"chain\": [{\"task\": \"t\", \"options\": {\"countdown\": \"soon\"}}]}",
        "/chain/0/options/countdown");
    assertProblem(
        "{\"group\": [{\"task\": \"t\", \"options\": {\"task_id\": \"same\"}},"
            + " {\"task\": \"t\", \"options\": {\"task_id\": \"same\"}}]}",
        "/group/1/options/task_id");
    assertProblem("{\"chain\": [{\"task\": \"t\", \"immutable\": \"yes\"}]}", "/chain/0/immutable");
  }

  @Test
  void aWorkflowDeeperThanTheLimitIsRefused() throws Exception {
    String allowed = nested(WorkflowSubmission.MAX_DEPTH);
    assertEquals(1, WorkflowSubmission.parse(allowed).tasks());

    String tooDeep = nested(WorkflowSubmission.MAX_DEPTH + 1);
    TaskSubmission.Invalid e =
        assertThrows(TaskSubmission.Invalid.class, () -> WorkflowSubmission.parse(tooDeep));
    assertEquals("/chain/0".repeat(WorkflowSubmission.MAX_DEPTH), e.problem.pointer());
  }

  @Test
  void moreTasksThanTheLimitAreRefused() {
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode group = body.putArray("group");
    for (int i = 0; i <= WorkflowSubmission.MAX_TASKS; i++) {
      group.addObject().put("task", "t");
    }

    TaskSubmission.Invalid e =
        assertThrows(
            TaskSubmission.Invalid.class,
            () -> WorkflowSubmission.parse(Json.MAPPER.writeValueAsString(body)));
    assertEquals("", e.problem.pointer());
    assertTrue(e.problem.detail().contains("100000"), e.problem.detail());
  }

  @Test
  void aBodyThatIsNotJsonOrNotAnObjectIsRefused() {
    TaskSubmission.Invalid notJson =
        assertThrows(TaskSubmission.Invalid.class, () -> WorkflowSubmission.parse("{\"chain\""));
    assertNull(notJson.problem.pointer());
    assertProblem("[{\"task\": \"t\"}]", "");
  }

  /** {@code levels} chains, one in the other, around one task. */
  static String nested(int levels) {
    return "{\"chain\": [".repeat(levels) + "{\"task\": \"t\"}" + "]}".repeat(levels);
  }

  private static void assertProblem(String body, String pointer) {
    TaskSubmission.Invalid e =
        assertThrows(TaskSubmission.Invalid.class, () -> WorkflowSubmission.parse(body), body);
    assertEquals(HttpStatus.BAD_REQUEST, e.problem.status());
    assertEquals(pointer, e.problem.pointer(), e.problem.detail());
  }
}
