package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * POST /workflows and GET /workflows/{id} with the producer and worker jars on RabbitMQ: each form
 * of canvas, Celery's dict and the short form, read back through another producer replica.
 */
class WorkflowRestIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private final String queue = RabbitFixture.uniqueQueue("workflows");

  @AfterEach
  void cleanUp() {
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void everyFormOfWorkflowRunsAndAnyReplicaAnswersItsStateResultAndTasks() throws IOException {
    try (AppProcess worker = AppProcess.worker(queue, 16);
        AppProcess first = AppProcess.producer();
        AppProcess second = AppProcess.producer()) {
      String chain =
          submit(
              first,
              """
              {"task": "celery.chain", "args": [], "kwargs": {"tasks": [
                {"task": "demo.add", "args": [1, 2], "kwargs": {}, "options": {"queue": "%1$s"},
                 "subtask_type": null, "immutable": false},
                {"task": "demo.add", "args": [10], "kwargs": {}, "options": {"queue": "%1$s"},
                 "subtask_type": null, "immutable": false}]},
               "options": {}, "subtask_type": "chain", "immutable": false}
              """
                  .formatted(queue));
      String group =
          submit(
              first,
              """
              {"group": [{"task": "demo.add", "args": [1, 1], "queue": "%1$s"},
                         {"task": "demo.add", "args": [2, 2], "queue": "%1$s"}]}
              """
                  .formatted(queue));
      String chord =
          submit(
              first,
              """
              {"chord": {"header": [
                 {"task": "demo.add", "args": [1, 1], "queue": "%1$s"},
                 {"chain": [{"task": "demo.add", "args": [2, 2], "queue": "%1$s"},
                            {"task": "demo.add", "args": [10], "queue": "%1$s"}]}],
               "body": {"task": "demo.echo", "queue": "%1$s"}}}
              """
                  .formatted(queue));
      String failing =
          submit(
              first,
              """
              {"chain": [{"task": "demo.fail", "args": ["mid-chain"], "queue": "%1$s"},
                         {"task": "demo.add", "args": [1], "queue": "%1$s"}]}
              """
                  .formatted(queue));

      assertEquals(13, awaitFinal(second, chain).get("result").asInt());
      assertEquals(Json.MAPPER.readTree("[2, 4]"), awaitFinal(second, group).get("result"));
      JsonNode chordAnswer = awaitFinal(second, chord);
      assertEquals(Json.MAPPER.readTree("[2, 14]"), chordAnswer.get("result"));
      assertEquals("SUCCESS", chordAnswer.at("/body/state").asString(), chordAnswer.toString());
      assertEquals(2, chordAnswer.get("header").size(), chordAnswer.toString());
      JsonNode failed = awaitFinal(second, failing);
      assertEquals("FAILURE", failed.get("state").asString(), failed.toString());
      assertEquals("FAILURE", failed.at("/tasks/1/state").asString(), "the step after: " + failed);
      assertTrue(failed.toString().contains("mid-chain"), failed.toString());
    }
  }

  private static String submit(AppProcess producer, String canvas) throws IOException {
    HttpResponse<String> accepted = producer.post("/workflows", "application/json", canvas);
    assertEquals(202, accepted.statusCode(), accepted.body());
    assertTrue(
        accepted.headers().firstValue("Location").orElse("").startsWith("/workflows/"),
        accepted.headers().map().toString());
    return Json.MAPPER.readTree(accepted.body()).get("id").asString();
  }

  private static JsonNode awaitFinal(AppProcess producer, String id) {
    return Await.until(
        WAIT,
        "workflow " + id + " to finish",
        () -> {
          try {
            HttpResponse<String> answer = producer.get("/workflows/" + id);
            if (answer.statusCode() != 200) {
              return Optional.empty();
            }
            JsonNode workflow = Json.MAPPER.readTree(answer.body());
            String state = workflow.path("state").asString();
            return "SUCCESS".equals(state) || "FAILURE".equals(state)
                ? Optional.of(workflow)
                : Optional.empty();
          } catch (IOException e) {
            return Optional.empty();
          }
        });
  }
}
