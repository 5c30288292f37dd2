package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The walking system: the producer and worker jars as separate processes on a real RabbitMQ. A task
 * goes in over REST, a worker JVM runs it, and its state and result come back over REST.
 */
class WalkingSystemIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static AppProcess producer;

  private final String queue = RabbitFixture.uniqueQueue("system");
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
  void taskSubmittedOverRestReachesSuccessWithTheRightResult() throws IOException {
    AppProcess worker = startWorker(4);

    HttpResponse<String> accepted =
        submit("{\"task\": \"demo.add\", \"args\": [2, 3], \"queue\": \"" + queue + "\"}");

    assertEquals(202, accepted.statusCode(), accepted.body());
    JsonNode body = Json.MAPPER.readTree(accepted.body());
    assertEquals("PENDING", body.get("state").asString());
    assertEquals(
        "/tasks/" + body.get("id").asString(),
        accepted.headers().firstValue("Location").orElseThrow());
    JsonNode done = producer.awaitFinal(body.get("id").asString());
    assertEquals("SUCCESS", done.get("state").asString());
    assertEquals(5, done.get("result").asInt());
    assertEquals("demo.add", done.get("task").asString());
    String metrics = worker.get("/prometheus").body();
    assertTrue(
        metrics.contains("lovage_worker_tasks_total{outcome=\"succeeded\""),
        "totals at /prometheus");
    assertTrue(
        metrics.contains(
            "lovage_task_runtime_seconds_count{outcome=\"succeeded\",task=\"demo.add\"} 1"),
        "per-task run time at /prometheus");
  }

  @Test
  void failingTaskReachesFailureWithItsError() throws IOException {
    startWorker(4);

    String id =
        producer.submitTask(
            ("{\"task\": \"demo.fail\", \"args\": [\"boom\"], \"queue\": \"" + queue + "\"}"));

    JsonNode done = producer.awaitFinal(id);
    assertEquals("FAILURE", done.get("state").asString());
    assertEquals("DemoFailure", done.at("/error/type").asString());
    assertEquals("boom", done.at("/error/message").asString());
    assertTrue(done.at("/error/traceback").asString().contains("DemoFailure: boom"));
  }

  @Test
  void twoWorkerProcessesShareOneQueueAndBothRunTasks() throws IOException {
    AppProcess first = startWorker(2);
    AppProcess second = startWorker(2);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      ids.add(
          producer.submitTask(
              ("{\"task\": \"demo.sleep\", \"args\": [0.2], \"queue\": \"" + queue + "\"}")));
    }

    Set<String> ranOn = new HashSet<>();
    for (String id : ids) {
      JsonNode done = producer.awaitFinal(id);
      assertEquals("SUCCESS", done.get("state").asString(), done.toString());
      String worker = done.get("worker").asString();
      ranOn.add(
          worker.startsWith(first.workerNamePrefix())
              ? "first"
              : worker.startsWith(second.workerNamePrefix()) ? "second" : worker);
    }
    assertEquals(Set.of("first", "second"), ranOn);
  }

  @Test
  void taskOfAKilledWorkerIsRedeliveredAndCompletesOnAnother() throws IOException {
    AppProcess doomed = startWorker(1);
    String id =
        producer.submitTask(
            ("{\"task\": \"demo.sleep\", \"args\": [3], \"queue\": \"" + queue + "\"}"));
    Await.until(
        WAIT,
        "task started on the first worker",
        () -> producer.task(id).filter(t -> "STARTED".equals(t.get("state").asString())));

    doomed.kill();
    AppProcess survivor = startWorker(1);

    JsonNode done = producer.awaitFinal(id);
    assertEquals("SUCCESS", done.get("state").asString());
    assertTrue(
        done.get("worker").asString().startsWith(survivor.workerNamePrefix()), done.toString());
  }

  @Test
  void progressReportedByARunningTaskIsShownOverRest() throws IOException {
    startWorker(2);

    String id =
        producer.submitTask(
            ("{\"task\": \"demo.progress\", \"args\": [4, 0.3], \"queue\": \"" + queue + "\"}"));

    JsonNode midway =
        Await.until(
            WAIT,
            "progress while running",
            () ->
                producer
                    .task(id)
                    .filter(
                        t ->
                            t.get("progress").isObject()
                                && "STARTED".equals(t.get("state").asString())));
    assertEquals(4, midway.at("/progress/total").asInt());
    JsonNode done = producer.awaitFinal(id);
    assertEquals(4, done.at("/progress/done").asInt());
  }

  @Test
  void tasksFromTheirOwnJarOnTheWorkersClasspathRunWithTypedParameters() throws IOException {
    workers.add(AppProcess.workerWithTasks(queue, System.getProperty("lovage.example.tasks.jar")));

    String id =
        producer.submitTask(
            ("{\"task\": \"billing.invoice\", \"queue\": \""
                + queue
                + "\", \"kwargs\": {\"orderId\": \"o-7\","
                + " \"vatRate\": 0.2, \"lines\": [{\"sku\": \"a\", \"quantity\": 2, \"unitPrice\": 10},"
                + " {\"sku\": \"b\", \"quantity\": 1, \"unitPrice\": 5}]}}"));

    JsonNode done = producer.awaitFinal(id);
    assertEquals("SUCCESS", done.get("state").asString(), done.toString());
    assertEquals("o-7", done.at("/result/orderId").asString());
    assertEquals(30.0, done.at("/result/total").asDouble());
    String bad =
        producer.submitTask(
            ("{\"task\": \"billing.checksum\", \"args\": [\"x\", \"many\"], \"queue\": \""
                + queue
                + "\"}"));
    JsonNode failed = producer.awaitFinal(bad);
    assertEquals("TaskArgumentException", failed.at("/error/type").asString());
    assertTrue(failed.at("/error/message").asString().contains("'rounds'"), failed.toString());
  }

  @Test
  void workersAreListedWithTheirQueuesAndPoolAndLeaveTheListWhenTheyStop() throws IOException {
    AppProcess worker = startWorker(2);
    producer.awaitFinal(
        producer.submitTask("{\"task\": \"demo.noop\", \"queue\": \"" + queue + "\"}"));

    JsonNode listed =
        Await.until(
            WAIT,
            "the worker in GET /workers, having processed a task",
            () -> workerEntry(worker).filter(w -> w.get("processed").asLong() >= 1));
    assertEquals("lovage", listed.get("software").asString());
    assertTrue(listed.get("answered").asBoolean(), "the worker answered for itself: " + listed);
    assertTrue(listed.get("queues").toString().contains(queue), listed.toString());
    assertTrue(listed.at("/pool/maxConcurrency").asInt() >= 1, listed.toString());
    assertTrue(listed.get("tasks").isArray(), listed.toString());

    assertEquals(0, worker.stop(WAIT));
    Await.until(
        WAIT, "the stopped worker to leave GET /workers", () -> workerEntry(worker).isEmpty());
  }

  private static Optional<JsonNode> workerEntry(AppProcess worker) {
    try {
      JsonNode list = Json.MAPPER.readTree(producer.get("/workers").body()).get("workers");
      return list.valueStream()
          .filter(w -> w.get("hostname").asString().startsWith(worker.workerNamePrefix()))
          .findFirst();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  @Test
  void batchIsAcceptedOnceEveryTaskIsConfirmedAndABadItemIsPointedAt() throws IOException {
    startWorker(4);
    String q = "\"queue\": \"" + queue + "\"";

    HttpResponse<String> accepted =
        producer.post(
            "/tasks/batch",
            "application/json",
            "[{\"task\": \"demo.add\", \"args\": [1, 1], "
                + q
                + "}, {\"task\": \"demo.add\", \"args\": [2, 2], "
                + q
                + "}]");
    HttpResponse<String> bad =
        producer.post(
            "/tasks/batch", "application/json", "[{\"task\": \"demo.noop\"}, {\"args\": []}]");

    assertEquals(202, accepted.statusCode(), accepted.body());
    JsonNode items = Json.MAPPER.readTree(accepted.body());
    assertEquals(
        2, producer.awaitState(items.get(0).get("id").asString(), "SUCCESS").get("result").asInt());
    assertEquals(
        4, producer.awaitState(items.get(1).get("id").asString(), "SUCCESS").get("result").asInt());
    assertEquals(400, bad.statusCode());
    assertEquals("/1/task", Json.MAPPER.readTree(bad.body()).get("pointer").asString());
  }

  @Test
  void repeatedSubmitWithTheSameIdempotencyKeyAnswersTheFirstTask() throws IOException {
    startWorker(2);
    String task = "{\"task\": \"demo.add\", \"args\": [3, 4], \"queue\": \"" + queue + "\"}";
    Map<String, String> key =
        Map.of("Content-Type", "application/json", "Idempotency-Key", "order-" + queue);

    HttpResponse<String> first = producer.post("/tasks", task, key);
    HttpResponse<String> again = producer.post("/tasks", task, key);
    String other = producer.submitTask(task);

    assertEquals(202, first.statusCode(), first.body());
    assertEquals(202, again.statusCode(), again.body());
    String id = Json.MAPPER.readTree(first.body()).get("id").asString();
    assertEquals(id, Json.MAPPER.readTree(again.body()).get("id").asString());
    assertEquals("true", again.headers().firstValue("Idempotent-Replayed").orElse(""));
    assertTrue(!id.equals(other), "a submit without the key is a new task");
    assertEquals(7, producer.awaitState(id, "SUCCESS").get("result").asInt());
  }

  @Test
  void queuesAreListedWithTheirConsumersFromTheManagementApi() {
    startWorker(2);

    JsonNode listed =
        Await.until(
            WAIT,
            "the queue with its consumer in GET /queues",
            () -> {
              try {
                JsonNode queues =
                    Json.MAPPER.readTree(producer.get("/queues").body()).get("queues");
                return queues
                    .valueStream()
                    .filter(
                        q ->
                            q.get("name").asString().equals(queue)
                                && q.get("consumers").asInt() >= 1)
                    .findFirst();
              } catch (IOException | RuntimeException e) {
                return Optional.empty();
              }
            });
    assertEquals("quorum", listed.get("type").asString());
    assertTrue(
        listed.has("ready") && listed.has("unacknowledged") && listed.has("publishRate"),
        listed.toString());
  }

  @Test
  void invalidJsonIsABadRequestWithAProblemBody() throws IOException {
    HttpResponse<String> response = submit("{\"task\": ");

    assertEquals(400, response.statusCode());
    assertEquals(
        "application/problem+json", response.headers().firstValue("Content-Type").orElseThrow());
    assertEquals(400, Json.MAPPER.readTree(response.body()).get("status").asInt());
  }

  @Test
  void missingTaskNameIsABadRequestPointingAtTheField() throws IOException {
    HttpResponse<String> response = submit("{\"args\": [1]}");

    assertEquals(400, response.statusCode());
    assertEquals("/task", Json.MAPPER.readTree(response.body()).get("pointer").asString());
  }

  @Test
  void idNeverSeenIsNotFound() throws IOException {
    HttpResponse<String> response = producer.get("/tasks/00000000-0000-4000-8000-00000000dead");

    assertEquals(404, response.statusCode());
    assertEquals(
        "application/problem+json", response.headers().firstValue("Content-Type").orElseThrow());
  }

  private AppProcess startWorker(int concurrency) {
    AppProcess worker = AppProcess.worker(queue, concurrency);
    workers.add(worker);
    return worker;
  }

  private static HttpResponse<String> submit(String json) throws IOException {
    return producer.post("/tasks", "application/json", json);
  }
}
