package io.lovage.producer;

import io.lovage.RemoteControl;
import io.lovage.protocol.Json;
import io.lovage.result.WorkerDirectory;
import io.lovage.service.Problem;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import java.time.Duration;
import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code GET /workers}: the workers alive now, Lovage's and Celery's, from their heartbeats; one
 * worker in detail and its shutdown through Celery's remote control, which both kinds answer.
 */
@Controller("/workers")
final class WorkerController {
  /** How long a worker has to answer a remote-control request. */
  static final Duration ANSWER_WITHIN = Duration.ofSeconds(3);

  private final WorkerDirectory workers;
  private final RemoteControl control;

  WorkerController(WorkerDirectory workers, RemoteControl control) {
    this.workers = workers;
    this.control = control;
  }

  @ApiDoc(
      summary = "One worker in detail, from the worker itself",
      description =
          "Asks the worker through Celery's remote control (celery.pidbox) for its stats, the"
              + " tasks it runs and the queues it consumes; Lovage and Celery workers answer.",
      responses = {
        @ApiResponse(
            status = 200,
            description = "`{\"hostname\", \"stats\", \"active\": [...], \"queues\": [...]}`"),
        @ApiResponse(status = 404, description = "no worker of that name answered within 3 s")
      })
  @Get("/{hostname}")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> show(@PathVariable String hostname) {
    List<String> worker = List.of(hostname);
    var asked = askAll("stats", worker, ANSWER_WITHIN);
    var running = askAll("active", worker, ANSWER_WITHIN);
    var consumed = askAll("active_queues", worker, ANSWER_WITHIN);
    JsonNode stats = asked.join().get(hostname);
    if (stats == null) {
      return noAnswer(hostname);
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("hostname", hostname);
    body.set("stats", stats);
    JsonNode active = running.join().get(hostname);
    body.set("active", active == null ? Json.MAPPER.createArrayNode() : active);
    JsonNode queues = consumed.join().get(hostname);
    body.set("queues", queues == null ? Json.MAPPER.createArrayNode() : queues);
    return HttpResponse.ok(Json.MAPPER.writeValueAsString(body))
        .contentType(MediaType.APPLICATION_JSON_TYPE);
  }

  @ApiDoc(
      summary = "Stop a worker gracefully (Celery's control shutdown)",
      description =
          "A Lovage worker stops as on SIGTERM: it stops consuming, finishes its running tasks"
              + " within its shutdown grace and exits 0.",
      responses = {
        @ApiResponse(status = 202, description = "`{\"hostname\", \"answer\"}`"),
        @ApiResponse(status = 404, description = "no worker of that name answered within 3 s")
      })
  @Post("/{hostname}/shutdown")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> shutdown(@PathVariable String hostname) {
    JsonNode answer = ask("shutdown", hostname);
    if (answer == null) {
      return noAnswer(hostname);
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("hostname", hostname);
    body.set("answer", answer);
    return HttpResponse.accepted()
        .body(Json.MAPPER.writeValueAsString(body))
        .contentType(MediaType.APPLICATION_JSON_TYPE);
  }

  @ApiDoc(
      summary = "Start or stop consuming a queue on a worker (Celery's add/cancel_consumer)",
      description =
          "Body `{\"queue\": \"reports\", \"consume\": true}` starts consuming the queue (declared"
              + " as Lovage declares task queues), `false` stops; running tasks go on.",
      responses = {
        @ApiResponse(status = 200, description = "`{\"hostname\", \"answer\"}`"),
        @ApiResponse(status = 400, description = "no queue name, or `consume` not a boolean"),
        @ApiResponse(status = 404, description = "no worker of that name answered within 3 s")
      })
  @Post(value = "/{hostname}/queues", consumes = MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> queues(@PathVariable String hostname, @Body String body) {
    JsonNode request;
    try {
      request = Json.MAPPER.readTree(body);
    } catch (tools.jackson.core.JacksonException e) {
      return Problem.badRequest("", "request body is not valid JSON").response();
    }
    String queue = request.path("queue").asString("");
    if (!TaskSubmission.isQueueName(queue)) {
      return Problem.badRequest(
              "/queue",
              "field 'queue' must be a queue name of letters, digits, '.', '_', ':' or '-'")
          .response();
    }
    if (!request.path("consume").isBoolean()) {
      return Problem.badRequest("/consume", "field 'consume' must be true or false").response();
    }
    ObjectNode arguments = Json.MAPPER.createObjectNode();
    arguments.put("queue", queue);
    String method = request.get("consume").asBoolean() ? "add_consumer" : "cancel_consumer";
    JsonNode answer =
        control.call(method, arguments, List.of(hostname), ANSWER_WITHIN, 1).get(hostname);
    if (answer == null) {
      return noAnswer(hostname);
    }
    ObjectNode reply = Json.MAPPER.createObjectNode();
    reply.put("hostname", hostname);
    reply.set("answer", answer);
    return HttpResponse.ok(Json.MAPPER.writeValueAsString(reply))
        .contentType(MediaType.APPLICATION_JSON_TYPE);
  }

  private JsonNode ask(String method, String hostname) {
    return control.call(method, null, List.of(hostname), ANSWER_WITHIN, 1).get(hostname);
  }

  private static MutableHttpResponse<String> noAnswer(String hostname) {
    return new Problem(
            HttpStatus.NOT_FOUND,
            "no worker named '"
                + hostname
                + "' answered within "
                + ANSWER_WITHIN.toSeconds()
                + " s",
            null)
        .response();
  }

  @ApiDoc(
      summary = "The workers alive now, Lovage's and Celery's",
      description =
          "From their heartbeats; a worker leaves the list when it stops or misses three"
              + " heartbeats. Each worker's running tasks, queues and pool come from the worker"
              + " itself through Celery's remote control (`answered: false` when it did not"
              + " answer within 1 s).",
      responses =
          @ApiResponse(
              status = 200,
              description =
                  "`{\"workers\": [{\"hostname\", \"software\", \"active\","
                      + " \"processed\", \"heartbeatSeconds\", \"lastSeen\", \"answered\","
                      + " \"tasks\": [{\"id\", \"name\"}], \"queues\": [...], \"pool\":"
                      + " {\"maxConcurrency\", \"processes\", \"autoscaler\"}}]}`"))
  @Get
  @Produces(MediaType.APPLICATION_JSON)
  String list() {
    List<WorkerDirectory.WorkerInfo> alive = workers.alive();
    List<String> names = alive.stream().map(WorkerDirectory.WorkerInfo::hostname).toList();
    var active = askAll("active", names, LIST_ANSWER_WITHIN);
    var queues = askAll("active_queues", names, LIST_ANSWER_WITHIN);
    var stats = askAll("stats", names, LIST_ANSWER_WITHIN);
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode list = body.putArray("workers");
    for (WorkerDirectory.WorkerInfo w : alive) {
      ObjectNode json = list.addObject();
      json.put("hostname", w.hostname());
      json.put("software", w.software());
      json.put("active", w.active());
      json.put("processed", w.processed());
      json.put("heartbeatSeconds", w.freq());
      json.put("lastSeen", w.lastSeen().toString());
      JsonNode running = active.join().get(w.hostname());
      JsonNode consumed = queues.join().get(w.hostname());
      JsonNode stat = stats.join().get(w.hostname());
      json.put("answered", running != null || consumed != null || stat != null);
      ArrayNode tasks = json.putArray("tasks");
      if (running != null) {
        running.forEach(
            t ->
                tasks
                    .addObject()
                    .put("id", t.path("id").asString(null))
                    .put("name", t.path("name").asString(null)));
      }
      ArrayNode queueNames = json.putArray("queues");
      if (consumed != null) {
        consumed.forEach(q -> queueNames.add(q.path("name").asString("")));
      }
      if (stat != null) {
        JsonNode pool = stat.path("pool");
        ObjectNode poolJson = json.putObject("pool");
        poolJson.set("maxConcurrency", pool.path("max-concurrency"));
        poolJson.put("processes", pool.path("processes").size());
        poolJson.set(
            "autoscaler", stat.path("autoscaler").isMissingNode() ? null : stat.path("autoscaler"));
      } else {
        json.putNull("pool");
      }
    }
    return Json.MAPPER.writeValueAsString(body);
  }

  /**
   * Asks every named worker at once, without waiting for the answers, so that several questions
   * take one round trip; answers by name, without those that did not answer {@code within}.
   */
  private java.util.concurrent.CompletableFuture<java.util.Map<String, JsonNode>> askAll(
      String method, List<String> names, Duration within) {
    if (names.isEmpty()) {
      return java.util.concurrent.CompletableFuture.completedFuture(java.util.Map.of());
    }
    return java.util.concurrent.CompletableFuture.supplyAsync(
        () -> control.call(method, null, names, within, 0), ASKING);
  }

  private static final java.util.concurrent.ExecutorService ASKING =
      java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();

  /** How long the list waits for the workers' own answers. */
  static final Duration LIST_ANSWER_WITHIN = Duration.ofSeconds(1);
}
