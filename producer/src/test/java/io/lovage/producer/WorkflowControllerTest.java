package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.broker.Broker;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.protocol.Json;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskEvents;
import io.lovage.service.Problem;
import io.lovage.testing.Await;
import io.lovage.testing.ForwardingBroker;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerSettings;
import io.lovage.workflow.CanvasSender;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code POST /workflows} and {@code GET /workflows/{id}}, run by a worker on the same broker. */
class WorkflowControllerTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final HttpClient http = HttpClient.newHttpClient();
  private static EmbeddedServer server;
  private static InMemoryBroker broker;
  private static Worker worker;

  @BeforeAll
  static void start() {
    server =
        ApplicationContext.run(
            EmbeddedServer.class,
            Map.of("micronaut.server.port", -1, InMemoryBrokerFactory.PROPERTY, "true"));
    broker = (InMemoryBroker) server.getApplicationContext().getBean(Broker.class);
    TaskRegistry tasks =
        TaskRegistry.builder()
            .register(
                "demo.add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
            .register(
                "demo.tsum",
                call -> {
                  long sum = 0;
                  for (JsonNode value : call.argNode(0, "values")) {
                    sum += value.asLong();
                  }
                  return sum;
                })
            .register(
                "demo.fail",
                call -> {
                  throw new IllegalStateException("step broke");
                })
            .build();
    worker = new Worker(broker, tasks, WorkerSettings.of(List.of(LovageTopology.DEFAULT_QUEUE), 4));
    worker.start();
  }

  @AfterAll
  static void stop() {
    worker.close();
    server.close();
  }

  @Test
  void aCeleryChainDictIsAcceptedAndItsLastResultIsTheWorkflowsResult() throws Exception {
    HttpResponse<String> accepted = post(WorkflowSubmissionTest.CELERY_CHAIN);

    assertEquals(202, accepted.statusCode(), accepted.body());
    JsonNode body = Json.MAPPER.readTree(accepted.body());
    String id = body.get("id").asString();
    assertEquals("/workflows/" + id, accepted.headers().firstValue("Location").orElseThrow());
    assertEquals("chain", body.get("type").asString());
    assertEquals(2, body.get("tasks").size());
    assertTrue(body.at("/tasks/0/id").isString(), "every task has its id at once");
    assertEquals("demo.add", body.at("/tasks/1/task").asString());

    JsonNode done = finished(id);
    assertEquals("SUCCESS", done.get("state").asString(), done.toString());
    assertEquals(6, done.get("result").asInt(), "(1 + 2) + 3");
    assertEquals(3, done.at("/tasks/0/result").asInt());
    assertEquals("SUCCESS", done.at("/tasks/1/state").asString());
  }

  @Test
  void theShortFormChordAnswersTheBodysResult() throws Exception {
    String id =
        submit(
            "{\"chord\": {\"header\": [{\"task\": \"demo.add\", \"args\": [1, 1]},"
                + " {\"task\": \"demo.add\", \"args\": [2, 2]}], \"body\": {\"task\": \"demo.tsum\"}}}");

    JsonNode done = finished(id);

    assertEquals("SUCCESS", done.get("state").asString(), done.toString());
    assertEquals(6, done.get("result").asInt());
    assertEquals("chord", done.get("type").asString());
    assertEquals(4, done.at("/header/1/result").asInt());
    assertEquals("SUCCESS", done.at("/body/state").asString());
  }

  @Test
  void aShortFormGroupAnswersItsMembersResultsInOrder() throws Exception {
    String id =
        submit(
            "{\"group\": [{\"task\": \"demo.add\", \"args\": [1, 1]}, {\"chain\": [{\"task\":"
                + " \"demo.add\", \"args\": [2, 2]}, {\"task\": \"demo.add\", \"args\": [10]}]}]}");

    JsonNode done = finished(id);

    assertEquals("SUCCESS", done.get("state").asString(), done.toString());
    assertEquals(Json.MAPPER.readTree("[2, 14]"), done.get("result"));
  }

  @Test
  void aGroupFollowedByAStepInAChainRunsAsAChordAndTheChainAnswersTheLastStep() throws Exception {
    String id =
        submit(
            "{\"chain\": [{\"task\": \"demo.add\", \"args\": [1, 2]}, {\"group\": [{\"task\":"
                + " \"demo.add\", \"args\": [10]}, {\"task\": \"demo.add\", \"args\": [20]}]},"
                + " {\"task\": \"demo.tsum\"}]}");

    JsonNode done = finished(id);

    assertEquals("SUCCESS", done.get("state").asString(), done.toString());
    assertEquals(36, done.get("result").asInt(), "(3 + 10) + (3 + 20)");
    assertEquals(13, done.at("/tasks/1/tasks/0/result").asInt());
    assertEquals(23, done.at("/tasks/1/tasks/1/result").asInt());
  }

  @Test
  void aFailedStepMakesTheChainFailure() throws Exception {
    String id =
        submit(
            "{\"chain\": [{\"task\": \"demo.add\", \"args\": [1, 1]}, {\"task\": \"demo.fail\"},"
                + " {\"task\": \"demo.add\", \"args\": [1]}]}");

    JsonNode done = finished(id);

    assertEquals("FAILURE", done.get("state").asString(), done.toString());
    assertTrue(done.at("/error/message").asString().contains("step broke"), done.toString());
    assertEquals(done.at("/tasks/1/id").asString(), done.at("/error/taskId").asString());
    assertEquals("SUCCESS", done.at("/tasks/0/state").asString());
    assertEquals("FAILURE", done.at("/tasks/1/state").asString());
  }

  @Test
  void anEmptyGroupIsRefusedWithAPointerAndNothingIsSent() throws Exception {
    String queue = "parked.refused";
    broker.declare(LovageTopology.taskQueue(queue));
    int records = workflowRecords();

    HttpResponse<String> refused =
        post(
            "{\"group\": [{\"task\": \"demo.add\", \"args\": [1, 1], \"queue\": \""
                + queue
                + "\"}, {\"group\": []}]}");

    assertProblem(refused, 400, "/group/1/group");
    assertEquals(0, broker.ready(queue), "the valid member was not sent either");
    assertEquals(records, workflowRecords(), "no workflow recorded");
  }

  @Test
  void anUnknownSubtaskTypeIsRefused() throws Exception {
    HttpResponse<String> refused =
        post(
            "{\"task\": \"celery.chain\", \"args\": [], \"kwargs\": {\"tasks\": [{\"task\":"
                + " \"demo.add\"}]}, \"options\": {}, \"subtask_type\": \"pipeline\","
                + " \"immutable\": false}");

    assertProblem(refused, 400, "/subtask_type");
  }

  @Test
  void aWorkflowDeeperThanTheLimitIsRefused() throws Exception {
    HttpResponse<String> refused =
        post(WorkflowSubmissionTest.nested(WorkflowSubmission.MAX_DEPTH + 1));

    assertProblem(refused, 400, "/chain/0".repeat(WorkflowSubmission.MAX_DEPTH));
  }

  @Test
  void getOfAnUnknownWorkflowIs404() throws Exception {
    HttpResponse<String> unknown = get("/workflows/no-such-workflow");

    assertProblem(unknown, 404, null);
  }

  @Test
  void aChordOfTenThousandHeaderTasksFitsTheBodyLimitAndIsAccepted() throws Exception {
    String queue = "parked.chord"; // no worker consumes it: the tasks wait there
    ObjectNode chord = Json.MAPPER.createObjectNode().putObject("chord");
    ArrayNode header = chord.putArray("header");
    for (int i = 0; i < 10_000; i++) {
      header.addObject().put("task", "demo.add").put("queue", queue).putArray("args").add(i).add(i);
    }
    chord.putObject("body").put("task", "demo.tsum").put("queue", queue);
    String body = "{\"chord\": " + Json.MAPPER.writeValueAsString(chord) + "}";
    assertTrue(body.length() < 1024 * 1024, body.length() + " bytes");

    HttpResponse<String> accepted = post(body);

    assertEquals(202, accepted.statusCode(), accepted.body());
    assertEquals(10_000, broker.ready(queue), "every header task sent, the body waits for them");
    JsonNode workflow =
        Json.MAPPER.readTree(get(accepted.headers().firstValue("Location").orElseThrow()).body());
    assertEquals(10_000, workflow.get("header").size());
  }

  @Test
  void aWorkflowNotReadYetAnswers503WithRetryAfter() throws Exception {
    InMemoryBroker fresh = new InMemoryBroker();
    fresh.declare(LovageTopology.events());
    // A broker on which the stores' catch-up markers never arrive: a very long history.
    Broker historyNeverRead =
        new ForwardingBroker(fresh) {
          @Override
          public CompletableFuture<Void> publish(String exchange, String key, Message message) {
            return exchange.isEmpty()
                ? CompletableFuture.completedFuture(null)
                : inner.publish(exchange, key, message);
          }
        };
    try (WorkflowStore workflows =
            new WorkflowStore(historyNeverRead, 100, Duration.ofHours(1), Clock.systemUTC())
                .follow();
        EventStreamResultStore results =
            new EventStreamResultStore(100, Duration.ofHours(1), Clock.systemUTC())
                .follow(historyNeverRead);
        TaskClient client = new TaskClient(fresh, "test")) {
      WorkflowController controller =
          new WorkflowController(
              new CanvasSender(
                  fresh,
                  client,
                  new TaskEvents(fresh, "test", Clock.systemUTC()),
                  Clock.systemUTC()),
              workflows,
              results);

      var lookup = controller.get("some-earlier-workflow");

      assertEquals(503, lookup.code());
      assertEquals("1", lookup.header("Retry-After"));
      assertTrue(lookup.body().contains("still reading"), lookup.body());
    } finally {
      fresh.close();
    }
  }

  /** Polls the workflow until its state is final. */
  private static JsonNode finished(String id) {
    return Await.until(
        WAIT,
        "workflow " + id + " finished",
        () -> {
          try {
            HttpResponse<String> response = get("/workflows/" + id);
            assertEquals(200, response.statusCode(), response.body());
            JsonNode json = Json.MAPPER.readTree(response.body());
            String state = json.get("state").asString();
            return List.of("SUCCESS", "FAILURE", "REVOKED", "REJECTED").contains(state)
                ? Optional.of(json)
                : Optional.empty();
          } catch (Exception e) {
            throw new AssertionError(e);
          }
        });
  }

  private static String submit(String workflow) throws Exception {
    HttpResponse<String> accepted = post(workflow);
    assertEquals(202, accepted.statusCode(), accepted.body());
    return Json.MAPPER.readTree(accepted.body()).get("id").asString();
  }

  private static int workflowRecords() {
    return (int)
        broker.messages(LovageTopology.EVENT_STREAM).stream()
            .filter(
                m ->
                    new String(m.body(), StandardCharsets.UTF_8)
                        .contains("\"" + WorkflowStore.RECORD_TYPE + "\""))
            .count();
  }

  private static void assertProblem(HttpResponse<String> response, int status, String pointer)
      throws Exception {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals(Problem.MEDIA_TYPE, response.headers().firstValue("Content-Type").orElse(""));
    JsonNode problem = Json.MAPPER.readTree(response.body());
    assertEquals(pointer, problem.path("pointer").asString(null), response.body());
  }

  private static HttpResponse<String> post(String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(server.getURL() + "/workflows"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(server.getURL() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
