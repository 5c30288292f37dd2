package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
  void countdownBecomesAnEtaAndExpiresTakesSecondsOrATime() throws Exception {
    java.time.Instant now = java.time.Instant.parse("2030-01-01T00:00:00Z");

    TaskSubmission s =
        TaskSubmission.parse(
            "{\"task\": \"t\", \"countdown\": 90, \"expires\": 3600, \"maxRetries\": 5}", now);

    assertEquals(java.time.Instant.parse("2030-01-01T00:01:30Z"), s.eta());
    assertEquals(java.time.Instant.parse("2030-01-01T01:00:00Z"), s.expires());
    assertEquals(5, s.toMessage().extraHeaders().get("max_retries"));
    TaskSubmission t =
        TaskSubmission.parse(
            "{\"task\": \"t\", \"eta\": \"2030-06-01T12:00:00+02:00\", \"expires\": \"2030-06-02T00:00:00Z\"}",
            now);
    assertEquals(java.time.Instant.parse("2030-06-01T10:00:00Z"), t.toMessage().eta());
    assertEquals(java.time.Instant.parse("2030-06-02T00:00:00Z"), t.toMessage().expires());
  }

  @Test
  void badTimesAndCountsAreRefusedWithPointers() {
    assertProblem("{\"task\": \"t\", \"countdown\": -1}", "/countdown");
    assertProblem("{\"task\": \"t\", \"countdown\": \"soon\"}", "/countdown");
    assertProblem("{\"task\": \"t\", \"countdown\": 1e12}", "/countdown");
    assertProblem(
        "{\"task\": \"t\", \"countdown\": 5, \"eta\": \"2030-01-01T00:00:00Z\"}", "/countdown");
    assertProblem("{\"task\": \"t\", \"eta\": \"tomorrow\"}", "/eta");
    assertProblem("{\"task\": \"t\", \"eta\": \"2030-01-01T00:00:00\"}", "/eta");
    assertProblem("{\"task\": \"t\", \"expires\": 0}", "/expires");
    assertProblem("{\"task\": \"t\", \"maxRetries\": 1.5}", "/maxRetries");
    assertProblem("{\"task\": \"t\", \"maxRetries\": 100000}", "/maxRetries");
    assertProblem("{\"task\": \"t\", \"priority\": 10}", "/priority");
    assertProblem("{\"task\": \"t\", \"priority\": \"high\"}", "/priority");
  }

  @Test
  void uniqueTakesAKeyOrTrueAndUniqueForDefaultsToAnHour() throws Exception {
    TaskSubmission keyed =
        TaskSubmission.parse("{\"task\": \"t\", \"unique\": \"invoice-42\", \"uniqueFor\": 90}");
    TaskSubmission derived = TaskSubmission.parse("{\"task\": \"t\", \"unique\": true}");

    assertEquals(
        io.lovage.Unique.key("invoice-42").lasting(java.time.Duration.ofSeconds(90)),
        keyed.unique());
    assertEquals(io.lovage.Unique.byArguments(), derived.unique());
    assertEquals(java.time.Duration.ofHours(1), derived.unique().uniqueFor());
    assertEquals(null, TaskSubmission.parse("{\"task\": \"t\", \"unique\": false}").unique());
    assertEquals(null, TaskSubmission.parse("{\"task\": \"t\"}").unique());
  }

  @Test
  void badUniqueValuesAreRefusedWithPointers() {
    assertProblem("{\"task\": \"t\", \"unique\": \"\"}", "/unique");
    assertProblem("{\"task\": \"t\", \"unique\": \"" + "k".repeat(201) + "\"}", "/unique");
    assertProblem("{\"task\": \"t\", \"unique\": 42}", "/unique");
    assertProblem("{\"task\": \"t\", \"unique\": {\"key\": \"k\"}}", "/unique");
    assertProblem("{\"task\": \"t\", \"unique\": true, \"uniqueFor\": 0}", "/uniqueFor");
    assertProblem("{\"task\": \"t\", \"unique\": true, \"uniqueFor\": \"1h\"}", "/uniqueFor");
    assertProblem("{\"task\": \"t\", \"unique\": true, \"uniqueFor\": 604801}", "/uniqueFor");
    assertProblem("{\"task\": \"t\", \"uniqueFor\": 60}", "/uniqueFor");
  }

  @Test
  void linkAndLinkErrorBecomeCelerySignaturesInTheEmbed() throws Exception {
    TaskSubmission s =
        TaskSubmission.parse(
            "{\"task\": \"demo.add\", \"args\": [1, 2], \"link\": {\"task\": \"demo.echo\"},"
                + " \"linkError\": [{\"task\": \"demo.noop\", \"immutable\": true, \"queue\": \"errors\"}]}");

    var embed = s.toMessage().embed();
    assertEquals("demo.echo", embed.at("/callbacks/0/task").asString());
    assertEquals("errors", embed.at("/errbacks/0/options/queue").asString());
    assertEquals(true, embed.at("/errbacks/0/immutable").asBoolean());
  }

  @Test
  void badSignaturesAreRefusedWithPointers() {
    assertProblem("{\"task\": \"t\", \"link\": \"demo.echo\"}", "/link");
    assertProblem("{\"task\": \"t\", \"link\": [{\"args\": []}]}", "/link/0/task");
    assertProblem(
        "{\"task\": \"t\", \"linkError\": {\"task\": \"x\", \"countdown\": 1}}",
        "/linkError/countdown");
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

  @Test
  void aBodyThatIsNotUtf8IsRefusedRatherThanRunWithReplacedText() {
    byte[] body = {
      '{', '"', 't', 'a', 's', 'k', '"', ':', '"', (byte) 0xC3, 0x28, (byte) 0xFF, '"', '}'
    };

    TaskSubmission.Invalid e =
        assertThrows(TaskSubmission.Invalid.class, () -> TaskSubmission.parse(body));

    assertEquals(HttpStatus.BAD_REQUEST, e.problem.status());
    assertTrue(e.problem.detail().contains("UTF-8"), e.problem.detail());
  }

  private static void assertProblem(String body, String pointer) {
    TaskSubmission.Invalid e =
        assertThrows(TaskSubmission.Invalid.class, () -> TaskSubmission.parse(body));
    assertEquals(HttpStatus.BAD_REQUEST, e.problem.status());
    assertEquals(pointer, e.problem.pointer());
  }
}
