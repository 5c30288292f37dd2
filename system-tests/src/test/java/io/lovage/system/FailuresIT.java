package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Failures handled by the broker, seen through the REST service, with worker JVMs as processes. */
class FailuresIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static AppProcess producer;

  private final String queue = RabbitFixture.uniqueQueue("failures");
  private final List<AppProcess> workers = new ArrayList<>();

  @BeforeAll
  static void startProducer() {
    producer = AppProcess.producer();
  }

  @AfterAll
  static void stopProducer() {
    producer.close();
  }

  @AfterEach
  void stopWorkers() {
    workers.forEach(AppProcess::close);
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void poisonTaskThatKillsItsWorkerEveryTimeEndsInTheDeadLetterQueueAndTheOthersComplete()
      throws IOException {
    String poison = producer.submitTask("{\"task\": \"demo.crash\", \"queue\": \"" + queue + "\"}");
    String healthy =
        producer.submitTask(
            "{\"task\": \"demo.add\", \"args\": [1, 2], \"queue\": \"" + queue + "\"}");

    // Each worker takes the poison task first and dies; the next one gets it redelivered.
    int workersKilled = 0;
    while (!producer
        .task(poison)
        .map(t -> t.get("state").asString())
        .orElse("")
        .equals("FAILURE")) {
      // Prefetch 1: the poison task does not take the other task down with it.
      AppProcess worker = AppProcess.workerNotAwaited(queue, Map.of("LOVAGE_PREFETCH", "1"));
      workers.add(worker);
      Await.until(
          WAIT,
          "the worker to die or the poison to be dead-lettered",
          () -> !worker.isAlive() || isFailure(poison));
      if (!worker.isAlive()) {
        workersKilled++;
      }
      assertTrue(workersKilled <= 10, "poison task never dead-lettered");
    }

    assertEquals(5, workersKilled, "dead-lettered on its sixth delivery");
    JsonNode failed = producer.task(poison).orElseThrow();
    assertEquals("WorkerLostError", failed.at("/error/type").asString(), failed.toString());
    assertEquals("SUCCESS", producer.awaitFinal(healthy).get("state").asString());
    JsonNode dead = deadLetters().get("deadLetters").get(0);
    assertEquals(poison, dead.get("taskId").asString());
    assertTrue(dead.get("reason").asString().contains("delivered 6 times"), dead.toString());
  }

  @Test
  void countdownTaskOverRestIsNotStartedEarly() throws IOException {
    workers.add(AppProcess.worker(queue, 2));
    Instant before = Instant.now();

    String id =
        producer.submitTask(
            "{\"task\": \"demo.noop\", \"countdown\": 2, \"queue\": \"" + queue + "\"}");

    JsonNode done = producer.awaitFinal(id);
    assertEquals("SUCCESS", done.get("state").asString());
    Instant started = Instant.parse(done.get("started").asString());
    assertFalse(
        started.isBefore(before.plusSeconds(2)),
        "started at " + started + ", countdown from " + before);
  }

  @Test
  void failedTaskIsListedOverRestAndReplayRunsItAgainAndDeleteRemovesIt() throws IOException {
    workers.add(AppProcess.worker(queue, 2));
    String id =
        producer.submitTask(
            "{\"task\": \"demo.fail\", \"args\": [\"boom\"], \"queue\": \"" + queue + "\"}");
    String finishedFirst = producer.awaitFinal(id).get("finished").asString();

    JsonNode dead = Await.until(WAIT, "a dead letter", () -> firstDeadLetter());
    assertEquals(id, dead.get("taskId").asString());
    assertEquals("DemoFailure", dead.get("exceptionType").asString());
    assertEquals("task failed: DemoFailure: boom", dead.get("reason").asString());

    HttpResponse<String> replay =
        producer.post(
            "/dead-letters/" + dead.get("id").asString() + "/replay", "application/json", "");
    assertEquals(202, replay.statusCode(), replay.body());

    JsonNode again =
        Await.until(
            WAIT,
            "the replayed task to fail again",
            () ->
                producer
                    .task(id)
                    .filter(
                        t ->
                            "FAILURE".equals(t.get("state").asString())
                                && !finishedFirst.equals(t.get("finished").asString())));
    assertEquals("boom", again.at("/error/message").asString());
    JsonNode second =
        Await.until(
            WAIT,
            "the new dead letter",
            () -> firstDeadLetter().filter(d -> !d.get("id").equals(dead.get("id"))));

    HttpResponse<String> deleted = producer.delete("/dead-letters/" + second.get("id").asString());
    assertEquals(204, deleted.statusCode());
    assertEquals(404, producer.get("/dead-letters/" + second.get("id").asString()).statusCode());
    assertEquals(0, deadLetters().get("deadLetters").size());
  }

  private static boolean isFailure(String id) {
    return producer.task(id).map(t -> "FAILURE".equals(t.get("state").asString())).orElse(false);
  }

  private JsonNode deadLetters() throws IOException {
    HttpResponse<String> r = producer.get("/dead-letters?queue=" + queue);
    assertEquals(200, r.statusCode(), r.body());
    return Json.MAPPER.readTree(r.body());
  }

  private Optional<JsonNode> firstDeadLetter() {
    try {
      JsonNode list = deadLetters().get("deadLetters");
      return list.isEmpty() ? Optional.empty() : Optional.of(list.get(0));
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
