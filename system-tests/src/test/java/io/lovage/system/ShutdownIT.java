package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * SIGTERM to a worker JVM: running tasks finish, waiting ones go back, the process exits 0. To a
 * producer: the requests it has are answered, and what it accepted is recorded, before it exits.
 */
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

  @Test
  void sigtermToAProducerAnswersTheRequestsItHasAndAnotherReplicaKnowsEveryTaskItAccepted()
      throws Exception {
    try (AppProcess stopping = AppProcess.startProducer(Map.of());
        AppProcess other = AppProcess.producer()) {
      stopping.awaitHealthy().awaitHistoryRead();
      String task = "{\"task\": \"demo.noop\", \"queue\": \"" + queue + "\"}";
      List<String> accepted = new CopyOnWriteArrayList<>();
      List<String> refused = new CopyOnWriteArrayList<>();
      try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int i = 0; i < 32; i++) {
          clients.execute(
              () -> {
                while (true) {
                  HttpResponse<String> answer;
                  try {
                    answer = stopping.post("/tasks", "application/json", task);
                  } catch (IOException closed) {
                    return; // the producer no longer takes requests
                  }
                  if (answer.statusCode() == 202) {
                    accepted.add(Json.MAPPER.readTree(answer.body()).get("id").asString());
                  } else {
                    refused.add(answer.statusCode() + " " + answer.body());
                  }
                }
              });
        }
        Await.until(WAIT, "500 tasks accepted", () -> accepted.size() >= 500);

        assertEquals(0, stopping.stop(WAIT), "exit code after SIGTERM");
      }

      assertEquals(List.of(), refused, "requests not accepted while the producer stopped");
      // A request failed as the producer stopped is not always answered: its connection closes.
      String log = Files.readString(stopping.log());
      for (String failure : List.of("task not accepted", "task-sent event not recorded")) {
        assertFalse(log.contains(failure), "\"" + failure + "\" in " + stopping.log());
      }
      assertTrue(
          RabbitAdmin.ready(queue) >= accepted.size(),
          RabbitAdmin.ready(queue) + " messages in the queue for " + accepted.size() + " accepted");
      // From the task-sent events the stopping producer published: no worker runs these tasks.
      accepted.forEach(id -> other.awaitState(id, "PENDING"));
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
