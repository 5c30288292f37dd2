package io.lovage.producer;

import io.lovage.TaskClient;
import io.lovage.TaskError;
import io.lovage.TaskState;
import io.lovage.Unique;
import io.lovage.broker.PublishException;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.ReplyRecorder;
import io.lovage.result.TaskArguments;
import io.lovage.result.TaskEvents;
import io.lovage.result.TaskRecord;
import io.lovage.service.Problem;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.lovage.unique.UniqueLocks;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Submits tasks and reads their states; a task is accepted only once RabbitMQ confirmed it. */
@Controller("/tasks")
@ExecuteOn(TaskExecutors.BLOCKING)
final class TaskController {
  private static final Logger log = LoggerFactory.getLogger(TaskController.class);

  /** Seconds a client is asked to wait before retrying while the broker is unavailable. */
  static final int RETRY_AFTER_SECONDS = 5;

  /** A producer reads about 16,000 events/s of history at start: a second is a fair wait. */
  static final int HISTORY_RETRY_AFTER_SECONDS = 1;

  static final int MAX_PAGE = 500;
  static final int MAX_BATCH = 1_000;
  static final String BATCH_SCHEMA = "TaskBatch";
  static final int MAX_IDEMPOTENCY_KEY = 200;

  /** Striped locks: one submit per idempotency key at a time, with no map of keys to clean up. */
  private final Object[] idempotencyLocks = new Object[64];

  {
    java.util.Arrays.setAll(idempotencyLocks, i -> new Object());
  }

  private final TaskClient client;
  private final EventStreamResultStore results;
  private final ReplyRecorder replies;
  private final Clock clock = Clock.systemUTC();

  TaskController(TaskClient client, EventStreamResultStore results, ReplyRecorder replies) {
    this.replies = replies;
    this.client = client;
    this.results = results;
  }

  @ApiDoc(
      summary = "Submit a task",
      description =
          "Answers once RabbitMQ has confirmed the message, never before. With an"
              + " `Idempotency-Key`, a repeated submit answers the first task's id, with"
              + " `Idempotent-Replayed: true`, instead of sending a second task. With"
              + " `\"unique\": \"<key>\"` (or `true`: the key is the task name and its"
              + " arguments) a submit while an equal task is pending or running answers 200 with"
              + " that task's id and `Unique-Replayed: true`, across every replica;"
              + " `uniqueFor` (seconds, default "
              + Unique.DEFAULT_SECONDS
              + ") bounds how long the key stays taken if the task never finishes.",
      requestBody = TaskSubmission.SCHEMA,
      responses = {
        @ApiResponse(
            status = 202,
            description = "accepted: `{\"id\", \"state\": \"PENDING\"}`",
            headers = {"Location", "Idempotent-Replayed"}),
        @ApiResponse(
            status = 200,
            description =
                "with `unique`: an equal task is pending or running, nothing was sent:"
                    + " `{\"id\", \"state\"}` of that task",
            headers = {"Location", "Unique-Replayed"}),
        @ApiResponse(
            status = 400,
            description =
                "the body is not a valid task (`pointer` names the field), or the"
                    + " Idempotency-Key is not 1 to "
                    + MAX_IDEMPOTENCY_KEY
                    + " characters"),
        @ApiResponse(
            status = 429,
            description = "the queue is at its length limit: the task was not submitted",
            headers = "Retry-After"),
        @ApiResponse(
            status = 503,
            description =
                "the broker did not confirm the task, or (with an Idempotency-Key) the"
                    + " service is still reading the task history after a start, or (with"
                    + " `unique`) an equal task holds the key but its id is not known yet: it"
                    + " was not submitted",
            headers = "Retry-After")
      })
  @ApiScope.Needs(ApiScope.SUBMIT)
  @Post(consumes = MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> submit(
      @Body byte[] body, @Nullable @Header("Idempotency-Key") String idempotencyKey) {
    TaskSubmission submission;
    try {
      submission = TaskSubmission.parse(body);
    } catch (TaskSubmission.Invalid e) {
      return e.problem.response();
    }
    if (idempotencyKey == null) {
      return send(submission, submission.toMessage());
    }
    if (idempotencyKey.isBlank() || idempotencyKey.length() > MAX_IDEMPOTENCY_KEY) {
      return new Problem(
              HttpStatus.BAD_REQUEST,
              "Idempotency-Key must be 1 to " + MAX_IDEMPOTENCY_KEY + " characters",
              null)
          .response();
    }
    // One submit per key at a time in this replica; other replicas learn the key from the
    // task-sent event, so a repeat that reaches them a moment later also finds the first task.
    synchronized (
        idempotencyLocks[Math.floorMod(idempotencyKey.hashCode(), idempotencyLocks.length)]) {
      var first = results.findByIdempotencyKey(idempotencyKey);
      if (first.isPresent()) {
        return accepted(first.get()).header("Idempotent-Replayed", "true");
      }
      if (!results.caughtUp()) {
        // The first submit with this key may be in the history not read yet: sending now could
        // run the task twice.
        return stillReading("Idempotency-Key '" + idempotencyKey + "' is not known yet");
      }
      TaskMessage message =
          submission.toMessage().toBuilder()
              .header(TaskEvents.IDEMPOTENCY_KEY, idempotencyKey)
              .build();
      return send(submission, message);
    }
  }

  /**
   * The task with this service's reply queue as its {@code reply_to}: a worker that sends no task
   * events (Celery's without {@code -E}) still lets every replica know the outcome.
   */
  private TaskMessage answered(TaskMessage message) {
    return message.replyTo() == null && !message.ignoresResult()
        ? message.withReplyTo(replies.queue())
        : message;
  }

  private MutableHttpResponse<String> send(TaskSubmission submission, TaskMessage message) {
    TaskMessage sent;
    long intake = results.intake();
    try {
      if (submission.unique() != null) {
        Unique.Sent unique =
            client.send(answered(message), submission.queue(), submission.unique()).get();
        if (unique.replayed()) {
          log.info(
              "equal task pending, not sent again task_id={} task={} queue={}",
              unique.id(),
              message.task(),
              submission.queue());
          return answer(unique.id(), HttpStatus.OK).header("Unique-Replayed", "true");
        }
        sent = unique.sent();
      } else {
        sent = client.send(answered(message), submission.queue()).get();
      }
    } catch (ExecutionException e) {
      return brokerTrouble(submission, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return brokerTrouble(submission, e);
    }
    results.recordSent(sent, submission.queue(), clock.instant(), intake);
    log.info(
        "task accepted task_id={} task={} queue={}", sent.id(), sent.task(), submission.queue());
    return accepted(sent.id());
  }

  private MutableHttpResponse<String> accepted(String id) {
    return answer(id, HttpStatus.ACCEPTED);
  }

  /** {@code {"id", "state"}} and where to read the task: a 202 when sent, a 200 when found. */
  private MutableHttpResponse<String> answer(String id, HttpStatus status) {
    ObjectNode accepted = Json.MAPPER.createObjectNode();
    accepted.put("id", id);
    accepted.put("state", results.find(id).map(r -> r.state().name()).orElse("PENDING"));
    return HttpResponse.<String>status(status)
        .header("Location", "/tasks/" + id)
        .body(Json.MAPPER.writeValueAsString(accepted));
  }

  /**
   * {@code POST /tasks/batch}: an array of task bodies. All are checked first (a bad one is a 400
   * pointing at {@code /<index>/<field>}); then all are sent, and the answer comes once the broker
   * confirmed every one: 202 with an id per item, in order. If some were not confirmed, 503 lists
   * which were accepted and which were not, so the client resubmits only those.
   */
  @ApiDoc(
      summary = "Submit up to " + MAX_BATCH + " tasks at once",
      description =
          "All are checked first, then all are sent; the answer comes once the broker confirmed"
              + " every one.",
      requestBody = BATCH_SCHEMA,
      responses = {
        @ApiResponse(
            status = 202,
            description = "all accepted: `[{\"index\", \"id\", \"state\"}]`, in order"),
        @ApiResponse(
            status = 400,
            description = "a task is not valid; `pointer` is `/<index>/<field>`; none was sent"),
        @ApiResponse(
            status = 503,
            description =
                "some were not confirmed: the problem lists the `accepted` and the `failed`"
                    + " items; resubmit the failed ones",
            headers = "Retry-After")
      })
  @ApiScope.Needs(ApiScope.SUBMIT)
  @Post(value = "/batch", consumes = MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> submitBatch(@Body byte[] body) {
    JsonNode items;
    try {
      items = TaskSubmission.readJson(body);
    } catch (TaskSubmission.Invalid e) {
      return e.problem.response();
    }
    if (items == null || !items.isArray() || items.isEmpty() || items.size() > MAX_BATCH) {
      return Problem.badRequest(
              "", "request body must be a JSON array of 1 to " + MAX_BATCH + " tasks")
          .response();
    }
    List<TaskSubmission> submissions = new ArrayList<>();
    Instant now = Instant.now();
    for (int i = 0; i < items.size(); i++) {
      try {
        submissions.add(TaskSubmission.parse(items.get(i), now));
      } catch (TaskSubmission.Invalid e) {
        String pointer = e.problem.pointer() == null ? "" : e.problem.pointer();
        return Problem.badRequest("/" + i + pointer, e.problem.detail()).response();
      }
    }
    long intake = results.intake();
    List<CompletableFuture<TaskMessage>> sent =
        submissions.stream()
            .map(sub -> client.send(answered(sub.toMessage()), sub.queue()))
            .toList();
    ArrayNode accepted = Json.MAPPER.createArrayNode();
    ArrayNode failed = Json.MAPPER.createArrayNode();
    for (int i = 0; i < sent.size(); i++) {
      try {
        TaskMessage message = sent.get(i).get();
        results.recordSent(message, submissions.get(i).queue(), clock.instant(), intake);
        ObjectNode item = accepted.addObject();
        item.put("index", i);
        item.put("id", message.id());
        item.put("state", "PENDING");
      } catch (ExecutionException e) {
        ObjectNode item = failed.addObject();
        item.put("index", i);
        item.put("detail", e.getCause().getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Problem(HttpStatus.SERVICE_UNAVAILABLE, "interrupted", null).response();
      }
    }
    if (failed.isEmpty()) {
      return HttpResponse.<String>status(HttpStatus.ACCEPTED)
          .body(Json.MAPPER.writeValueAsString(accepted));
    }
    ObjectNode problem =
        new Problem(
                HttpStatus.SERVICE_UNAVAILABLE,
                failed.size()
                    + " of "
                    + sent.size()
                    + " tasks were not confirmed by the broker; resubmit those",
                null)
            .body();
    problem.set("accepted", accepted);
    problem.set("failed", failed);
    return HttpResponse.<String>status(HttpStatus.SERVICE_UNAVAILABLE)
        .contentType(Problem.MEDIA_TYPE)
        .header("Retry-After", String.valueOf(RETRY_AFTER_SECONDS))
        .body(Json.MAPPER.writeValueAsString(problem));
  }

  private MutableHttpResponse<String> brokerTrouble(TaskSubmission submission, Throwable cause) {
    log.warn(
        "task not accepted task={} queue={} error={}",
        submission.task(),
        submission.queue(),
        cause.toString());
    if (cause instanceof UniqueLocks.Busy busy) {
      return new Problem(
              HttpStatus.SERVICE_UNAVAILABLE,
              "an equal task is being submitted but its id is not known yet; the task was not"
                  + " submitted: "
                  + busy.getMessage(),
              "/unique")
          .response()
          .header("Retry-After", String.valueOf(HISTORY_RETRY_AFTER_SECONDS));
    }
    if (cause instanceof PublishException p && p.reason() == PublishException.Reason.NACKED) {
      // The queue is at its length limit (x-overflow: reject-publish): back-pressure, not loss.
      return new Problem(
              HttpStatus.TOO_MANY_REQUESTS,
              "queue '" + submission.queue() + "' is full; the task was not submitted",
              "/queue")
          .response()
          .header("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
    }
    if (cause instanceof PublishException p && p.reason() == PublishException.Reason.UNROUTABLE) {
      return new Problem(HttpStatus.SERVICE_UNAVAILABLE, p.getMessage(), "/queue")
          .response()
          .header("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
    }
    return new Problem(
            HttpStatus.SERVICE_UNAVAILABLE,
            "the broker did not confirm the task, it was not submitted: " + cause.getMessage(),
            null)
        .response()
        .header("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
  }

  @ApiDoc(
      summary = "Recent tasks, newest first",
      description = "Optionally only those in one state (e.g. `FAILURE`) or of one task name.",
      responses = {
        @ApiResponse(status = 200, description = "`{\"tasks\": [...], \"offset\", \"limit\"}`"),
        @ApiResponse(
            status = 400,
            description =
                "unknown state, or offset or limit out of range (limit: 1 to " + MAX_PAGE + ")")
      })
  @Get
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> list(
      @QueryValue(defaultValue = "") String state,
      @QueryValue(defaultValue = "") String task,
      @QueryValue(defaultValue = "0") int offset,
      @QueryValue(defaultValue = "50") int limit) {
    TaskState wanted = null;
    if (!state.isEmpty()) {
      try {
        wanted = TaskState.valueOf(state.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        return Problem.badRequest(
                "/state", "state must be one of " + java.util.Arrays.toString(TaskState.values()))
            .response();
      }
    }
    if (limit < 1 || limit > MAX_PAGE) {
      return Problem.badRequest("/limit", "limit must be from 1 to " + MAX_PAGE).response();
    }
    if (offset < 0) {
      return Problem.badRequest("/offset", "offset must be 0 or more").response();
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode tasks = body.putArray("tasks");
    results
        .recent(wanted, task.isEmpty() ? null : task, offset, limit)
        .forEach(r -> tasks.add(toJson(r)));
    body.put("offset", offset);
    body.put("limit", limit);
    return HttpResponse.ok(Json.MAPPER.writeValueAsString(body));
  }

  /**
   * Revokes a task: 202 when it had not finished, 409 when it had, 404 when unknown. With {@code
   * ?terminate=true} a running task is interrupted.
   */
  @ApiDoc(
      summary = "Revoke a task (Celery's revoke)",
      description =
          "No worker starts it from then on. With `terminate=true` it is also interrupted where"
              + " it runs.",
      responses = {
        @ApiResponse(
            status = 202,
            description = "revoked: `{\"id\", \"state\": \"REVOKED\", \"terminate\"}`"),
        @ApiResponse(status = 404, description = "no task with this id is known"),
        @ApiResponse(status = 409, description = "the task has already finished"),
        @ApiResponse(
            status = 503,
            description =
                "the broker did not confirm the revocation, or the service is still reading"
                    + " the task history after a start",
            headers = "Retry-After")
      })
  @Delete("/{id}")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> revoke(
      @PathVariable String id, @QueryValue(defaultValue = "false") boolean terminate) {
    var record = results.find(id);
    if (record.isEmpty()) {
      return unknown(id);
    }
    if (record.get().state().isFinal()) {
      return new Problem(
              HttpStatus.CONFLICT,
              "task '" + id + "' has already finished in state " + record.get().state(),
              null)
          .response();
    }
    try {
      client.revoke(id, terminate).get();
    } catch (ExecutionException e) {
      return new Problem(
              HttpStatus.SERVICE_UNAVAILABLE,
              "the broker did not confirm the revocation: " + e.getCause().getMessage(),
              null)
          .response()
          .header("Retry-After", String.valueOf(RETRY_AFTER_SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Problem(HttpStatus.SERVICE_UNAVAILABLE, "interrupted", null).response();
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("id", id);
    body.put("state", "REVOKED");
    body.put("terminate", terminate);
    return HttpResponse.<String>status(HttpStatus.ACCEPTED)
        .body(Json.MAPPER.writeValueAsString(body));
  }

  @ApiDoc(
      summary = "A task's state, result or error",
      responses = {
        @ApiResponse(
            status = 200,
            description =
                "`{\"id\", \"task\", \"state\", \"result\", \"error\": {\"type\","
                    + " \"message\", \"traceback\"}, \"retries\", \"queue\", \"worker\","
                    + " \"sent\", \"received\", \"started\", \"finished\","
                    + " \"progress\", \"args\", \"kwargs\", \"argumentsTruncated\"}`"),
        @ApiResponse(status = 404, description = "no task with this id is known"),
        @ApiResponse(
            status = 503,
            description =
                "the service has just started and is still reading the task history: the"
                    + " task may yet be known",
            headers = "Retry-After")
      })
  @Get("/{id}")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> get(@PathVariable String id) {
    return results
        .find(id)
        .map(record -> HttpResponse.ok(Json.MAPPER.writeValueAsString(toJson(record))))
        .orElseGet(() -> unknown(id));
  }

  /**
   * 404 for a task this service does not know; 503 while it is still reading the task history from
   * the event stream (after a start), where the task may yet turn up.
   */
  private MutableHttpResponse<String> unknown(String id) {
    if (!results.caughtUp()) {
      return stillReading("task '" + id + "' is not known yet");
    }
    return new Problem(HttpStatus.NOT_FOUND, "no task with id '" + id + "' is known", null)
        .response();
  }

  static MutableHttpResponse<String> stillReading(String what) {
    return new Problem(
            HttpStatus.SERVICE_UNAVAILABLE,
            what + ": this service is still reading the task history from the event stream",
            null)
        .response()
        .header("Retry-After", String.valueOf(HISTORY_RETRY_AFTER_SECONDS));
  }

  static ObjectNode toJson(TaskRecord r) {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("id", r.id());
    json.put("task", r.task());
    json.put("state", r.state().name());
    json.set("result", r.result());
    TaskError error = r.error();
    if (error == null) {
      json.putNull("error");
    } else {
      ObjectNode e = json.putObject("error");
      e.put("type", error.type());
      e.put("message", error.message());
      e.put("traceback", error.traceback());
    }
    json.put("retries", r.retries());
    json.put("queue", r.queue());
    json.put("worker", r.worker());
    json.put("sent", text(r.sent()));
    json.put("received", text(r.received()));
    json.put("started", text(r.started()));
    json.put("finished", text(r.finished()));
    json.set("progress", r.progress());
    // Whole arguments as JSON; cut ones (longer than TaskArguments.MAX_CHARS) only say so.
    TaskArguments arguments = r.arguments();
    json.set("args", arguments == null ? null : arguments.args().orElse(null));
    json.set("kwargs", arguments == null ? null : arguments.kwargs().orElse(null));
    json.put("argumentsTruncated", arguments != null && arguments.truncated());
    return json;
  }

  private static String text(Instant instant) {
    return instant == null ? null : instant.toString();
  }
}
