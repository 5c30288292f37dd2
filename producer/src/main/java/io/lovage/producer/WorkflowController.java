package io.lovage.producer;

import io.lovage.broker.LovageTopology;
import io.lovage.broker.PublishException;
import io.lovage.protocol.Json;
import io.lovage.result.EventStreamResultStore;
import io.lovage.service.Problem;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.lovage.workflow.CanvasSender;
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
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Submits workflows (Celery's canvas: chains, groups, chords, nested) and reads their states.
 *
 * <p>A workflow gets an id of its own, a new UUID, not one of its tasks': a chain's last task, a
 * chord's body or a group's id would each name a part, and the workflow is the whole. Under that id
 * the producer appends the workflow's tree ({@link WorkflowTree}: its tasks' ids in their chains,
 * groups and chords) to the event stream, so every replica, also after a restart, finds it ({@link
 * WorkflowStore}); its state is folded from its tasks' states in the result store ({@link
 * WorkflowReport}).
 *
 * <pre>{@code
 * POST /workflows {"chain": [{"task": "demo.add", "args": [1, 2]}, {"task": "demo.add", "args": [3]}]}
 * 202 Location: /workflows/6f1c… {"id": "6f1c…", "type": "chain", "state": "PENDING", …}
 * GET /workflows/6f1c…           {"id": "6f1c…", "type": "chain", "state": "SUCCESS", "result": 6, …}
 * }</pre>
 */
@Controller("/workflows")
@ExecuteOn(TaskExecutors.BLOCKING)
final class WorkflowController {
  private static final Logger log = LoggerFactory.getLogger(WorkflowController.class);

  private final CanvasSender sender;
  private final WorkflowStore workflows;
  private final EventStreamResultStore results;

  WorkflowController(CanvasSender sender, WorkflowStore workflows, EventStreamResultStore results) {
    this.sender = sender;
    this.workflows = workflows;
    this.results = results;
  }

  @ApiDoc(
      summary = "Submit a workflow: a chain, group or chord of tasks (Celery's canvas)",
      description =
          "The body is Celery's signature dict, as Python's `json.dumps(chain(add.s(1, 2),"
              + " add.s(3)))` prints it, or the short form `{\"chain\": [...]}`, `{\"group\":"
              + " [...]}`, `{\"chord\": {\"header\": [...], \"body\": ...}}` with tasks `{\"task\","
              + " \"args\", \"kwargs\", \"queue\", \"immutable\", \"options\"}`, nested at most "
              + WorkflowSubmission.MAX_DEPTH
              + " levels, with at most "
              + WorkflowSubmission.MAX_TASKS
              + " tasks. The workflow is recorded and its first tasks sent; the answer comes once"
              + " RabbitMQ has confirmed all of them, never before.",
      requestBody = WorkflowSubmission.SCHEMA,
      responses = {
        @ApiResponse(
            status = 202,
            description =
                "accepted: the workflow as `GET /workflows/{id}` shows it, every task with its"
                    + " id, state PENDING",
            headers = "Location"),
        @ApiResponse(
            status = 400,
            description =
                "the body is not a valid workflow (`pointer` names the place); nothing was sent"),
        @ApiResponse(
            status = 429,
            description =
                "a queue is at its length limit: some of the workflow's first tasks may have been"
                    + " sent; the problem's `id` names the workflow",
            headers = "Retry-After"),
        @ApiResponse(
            status = 503,
            description =
                "the broker did not confirm the workflow's record (nothing was sent) or all of"
                    + " its first tasks (some may have been: the problem's `id` names the"
                    + " workflow)",
            headers = "Retry-After")
      })
  @ApiScope.Needs(ApiScope.SUBMIT)
  @Post(consumes = MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> submit(@Body byte[] body) {
    WorkflowSubmission submission;
    try {
      submission = WorkflowSubmission.parse(body);
    } catch (TaskSubmission.Invalid e) {
      return e.problem.response();
    }
    ObjectNode frozen = CanvasSender.freeze(submission.canvas(), null);
    String id = UUID.randomUUID().toString();
    WorkflowTree tree = WorkflowTree.of(frozen);
    // The record first: a workflow whose tasks run must be findable. A record whose tasks were
    // then not sent names an id no client was given.
    Throwable notRecorded = failure(workflows.append(id, tree));
    if (notRecorded != null) {
      return brokerTrouble(null, "its record", notRecorded);
    }
    Throwable notSent =
        failure(sender.send(frozen, null, List.of(), null, LovageTopology.DEFAULT_QUEUE));
    if (notSent != null) {
      return brokerTrouble(id, "all of its first tasks", notSent);
    }
    log.info("workflow accepted workflow_id={} tasks={}", id, submission.tasks());
    return HttpResponse.<String>status(HttpStatus.ACCEPTED)
        .header("Location", "/workflows/" + id)
        .body(Json.MAPPER.writeValueAsString(WorkflowReport.of(id, tree, results::find)));
  }

  /** Waits for a send; its failure (unwrapped), or null once it is confirmed. */
  private static Throwable failure(Future<?> confirmed) {
    try {
      confirmed.get();
      return null;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      while (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      return cause;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e;
    }
  }

  /**
   * 429 when a queue is full (back-pressure), else 503; with the workflow's id when some of its
   * tasks may have been sent.
   */
  private static MutableHttpResponse<String> brokerTrouble(
      String id, String what, Throwable cause) {
    log.warn(
        "workflow not accepted workflow_id={} unconfirmed={} error={}", id, what, cause.toString());
    boolean full =
        cause instanceof PublishException p && p.reason() == PublishException.Reason.NACKED;
    String detail =
        (full ? "a queue is at its length limit" : "the broker did not confirm " + what)
            + (id == null
                ? "; the workflow was not submitted: " + cause.getMessage()
                : "; some of its tasks may have been sent, see GET /workflows/"
                    + id
                    + ": "
                    + cause.getMessage());
    ObjectNode problem =
        new Problem(
                full ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.SERVICE_UNAVAILABLE, detail, null)
            .body();
    if (id != null) {
      problem.put("id", id);
    }
    return HttpResponse.<String>status(
            full ? HttpStatus.TOO_MANY_REQUESTS : HttpStatus.SERVICE_UNAVAILABLE)
        .contentType(Problem.MEDIA_TYPE)
        .header("Retry-After", String.valueOf(TaskController.RETRY_AFTER_SECONDS))
        .body(Json.MAPPER.writeValueAsString(problem));
  }

  @ApiDoc(
      summary = "A workflow's state and result, and each of its tasks'",
      description =
          "The workflow's state and result are a chain's last step's, a group's list of its"
              + " members' results (SUCCESS once all succeeded), a chord's body's; the first"
              + " failed task makes it fail with that task's error (`error.taskId` names it)."
              + " A task no event is known of yet is PENDING.",
      responses = {
        @ApiResponse(
            status = 200,
            description =
                "`{\"id\", \"type\": \"task\"|\"chain\"|\"group\"|\"chord\", \"state\","
                    + " \"result\", \"error\": {\"type\", \"message\", \"traceback\","
                    + " \"taskId\"}, \"tasks\": [...]}` (a chord: `\"header\": [...], \"body\":"
                    + " {...}` instead of `tasks`); a task in the tree is `{\"id\", \"task\","
                    + " \"state\", \"result\" (SUCCESS), \"error\" (failed)}`, a chain, group or"
                    + " chord `{\"type\", \"state\", \"tasks\" | \"header\", \"body\"}`"),
        @ApiResponse(status = 404, description = "no workflow with this id is known"),
        @ApiResponse(
            status = 503,
            description =
                "the service has just started and is still reading the history: the workflow"
                    + " may yet be known, or its tasks' states are not read yet",
            headers = "Retry-After")
      })
  @Get("/{id}")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> get(@PathVariable String id) {
    var workflow = workflows.find(id);
    if (workflow.isEmpty()) {
      if (!workflows.caughtUp()) {
        return TaskController.stillReading("workflow '" + id + "' is not known yet");
      }
      return new Problem(HttpStatus.NOT_FOUND, "no workflow with id '" + id + "' is known", null)
          .response();
    }
    if (!results.caughtUp()) {
      return TaskController.stillReading("the states of workflow '" + id + "' are not known yet");
    }
    return HttpResponse.ok(
        Json.MAPPER.writeValueAsString(
            WorkflowReport.of(id, workflow.get().tree(), results::find)));
  }
}
