package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.micronaut.http.HttpStatus;
import org.junit.jupiter.api.Test;

class TaskSubmissionTest {

  @Test
  void onlyTheTaskNameIsRequiredAndTheQueueDefaultsToCelery() throws Exception {
    TaskSubmission s = TaskSubmission.parse("{\"task\": \"demo.noop\"}");

    assertEquals("demo.noop", s.task());
    assertEquals("celery", s.queue());
    assertEquals("[]", s.toMessage().args().toString());
    assertEquals("{}", s.toMessage().kwargs().toString());
  }

  @Test
  void argsAndKwargsAndQueueAreTaken() throws Exception {
    TaskSubmission s =
        TaskSubmission.parse(
            "{\"task\": \"demo.add\", \"args\": [1], \"kwargs\": {\"y\": 2}, \"queue\": \"high\"}");

    assertEquals("[1]", s.args().toString());
    assertEquals("{\"y\":2}", s.kwargs().toString());
    assertEquals("high", s.queue());
  }

  @Test
  void unknownFieldIsRefusedWithAPointerToIt() {
    assertProblem("{\"task\": \"demo.add\", \"countdwn\": 5}", "/countdwn");
  }

  @Test
  void wrongTypesAreRefusedWithPointers() {
    assertProblem("{\"task\": 42}", "/task");
    assertProblem("{\"task\": \"demo.add\", \"args\": {\"x\": 1}}", "/args");
    assertProblem("{\"task\": \"demo.add\", \"kwargs\": [1]}", "/kwargs");
    assertProblem("{\"task\": \"demo.add\", \"queue\": \"amq.direct\"}", "/queue");
  }

  @Test
  void bodyThatIsNotAnObjectIsRefused() {
    assertProblem("[1, 2]", "");
  }

  @Test
  void invalidJsonIsRefusedWithoutPointer() {
    TaskSubmission.Invalid e =
        assertThrows(TaskSubmission.Invalid.class, () -> TaskSubmission.parse("{\"task\""));
    assertEquals(HttpStatus.BAD_REQUEST, e.problem.status());
    assertEquals(null, e.problem.pointer());
  }

  private static void assertProblem(String body, String pointer) {
    TaskSubmission.Invalid e =
        assertThrows(TaskSubmission.Invalid.class, () -> TaskSubmission.parse(body));
    assertEquals(HttpStatus.BAD_REQUEST, e.problem.status());
    assertEquals(pointer, e.problem.pointer());
  }
}
