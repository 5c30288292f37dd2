package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** SIGTERM to a worker JVM: running tasks finish, waiting ones go back, the process exits 0. */
class ShutdownIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final String queue = RabbitFixture.uniqueQueue("shutdown");

  @AfterEach
  void cleanUp() {
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void sigtermLetsTheRunningTaskFinishRequeuesTheWaitingOneAndExitsZero() throws IOException {
    try (AppProcess producer = AppProcess.producer()) {
      AppProcess stopping =
          AppProcess.worker(
              queue, Map.of("LOVAGE_CPU_CONCURRENCY", "1", "LOVAGE_SHUTDOWN_GRACE", "20"));
      String running =
          submit(
              producer, "{\"task\": \"demo.spin\", \"args\": [8], \"queue\": \"" + queue + "\"}");
      // Long enough to still run when the producer, which may still be reading older events,
      // shows it STARTED and the second task is sent.
      Await.until(
          WAIT, "the first task to start", () -> state(producer, running, "STARTED").isPresent());
      // One CPU slot: this one is held by the worker, waiting, not started.
      String waiting =
          submit(
              producer, "{\"task\": \"demo.spin\", \"args\": [0.1], \"queue\": \"" + queue + "\"}");

      int exit = stopping.stop(WAIT);

      assertEquals(0, exit, "exit code after SIGTERM");
      JsonNode first =
          state(producer, running, "SUCCESS")
              .orElseThrow(
                  () -> new AssertionError("the running task did not finish in the grace period"));
      assertTrue(
          first.get("worker").asString().startsWith(stopping.workerNamePrefix()), first.toString());
      String meanwhile = currentState(producer, waiting);
      assertTrue(
          meanwhile.equals("PENDING") || meanwhile.equals("RECEIVED"),
          "the waiting task never started, but is " + meanwhile);

      try (AppProcess next = AppProcess.worker(queue, 2)) {
        JsonNode second =
            Await.until(
                WAIT,
                "the waiting task on the next worker",
                () -> state(producer, waiting, "SUCCESS"));
        assertTrue(
            second.get("worker").asString().startsWith(next.workerNamePrefix()), second.toString());
      }
    }
  }

  private static String submit(AppProcess producer, String json) throws IOException {
    HttpResponse<String> accepted = producer.post("/tasks", "application/json", json);
    assertEquals(202, accepted.statusCode(), accepted.body());
    return Json.MAPPER.readTree(accepted.body()).get("id").asString();
  }

  private static String currentState(AppProcess producer, String id) throws IOException {
    return Json.MAPPER.readTree(producer.get("/tasks/" + id).body()).get("state").asString();
  }

  private static Optional<JsonNode> state(AppProcess producer, String id, String state) {
    try {
      HttpResponse<String> response = producer.get("/tasks/" + id);
      if (response.statusCode() != 200) {
        return Optional.empty();
      }
      JsonNode task = Json.MAPPER.readTree(response.body());
      return state.equals(task.get("state").asString()) ? Optional.of(task) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
