package io.lovage.producer;

import io.lovage.broker.BrokerException;
import io.lovage.broker.LovageTopology;
import io.lovage.deadletter.DeadLetter;
import io.lovage.deadletter.DeadLetterStore;
import io.lovage.protocol.Json;
import io.lovage.service.Problem;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.concurrent.CompletionException;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The dead letters of a task queue: {@code GET /dead-letters?queue=…&offset=…&limit=…}, {@code POST
 * /dead-letters/{id}/replay}, {@code DELETE /dead-letters/{id}}, and the same for every one that
 * matches a filter: {@code POST /dead-letters/replay?queue=…&task=…&reason=…}, {@code DELETE
 * /dead-letters?queue=…&task=…&reason=…}.
 */
@Controller("/dead-letters")
@ExecuteOn(TaskExecutors.BLOCKING)
final class DeadLetterController {
  static final int DEFAULT_LIMIT = 50;
  static final int MAX_LIMIT = 500;

  private final DeadLetterStore deadLetters;

  DeadLetterController(DeadLetterStore deadLetters) {
    this.deadLetters = deadLetters;
  }

  @ApiDoc(
      summary = "A queue's dead letters, oldest first",
      responses = {
        @ApiResponse(
            status = 200,
            description =
                "`{\"queue\", \"deadLetters\": [{\"id\", \"taskId\", \"task\","
                    + " \"reason\", \"exceptionType\", \"exceptionMessage\","
                    + " \"traceback\", \"attempts\", \"failedAt\", \"body\"}], \"next\"}`;"
                    + " `next` is the offset of the next page, or null"),
        @ApiResponse(
            status = 400,
            description = "offset or limit out of range (limit: 1 to " + MAX_LIMIT + ")"),
        @ApiResponse(status = 404, description = "the queue has no dead-letter queue")
      })
  @Get
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> list(
      @QueryValue(defaultValue = LovageTopology.DEFAULT_QUEUE) String queue,
      @QueryValue(defaultValue = "0") long offset,
      @QueryValue(defaultValue = "" + DEFAULT_LIMIT) int limit) {
    if (limit < 1 || limit > MAX_LIMIT) {
      return Problem.badRequest("/limit", "limit must be from 1 to " + MAX_LIMIT).response();
    }
    if (offset < 0) {
      return Problem.badRequest("/offset", "offset must be 0 or more").response();
    }
    DeadLetterStore.Page page;
    try {
      page = deadLetters.list(queue, offset, limit);
    } catch (BrokerException e) {
      return new Problem(
              HttpStatus.NOT_FOUND, "no dead-letter queue for queue '" + queue + "'", null)
          .response();
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("queue", page.queue());
    ArrayNode items = body.putArray("deadLetters");
    page.deadLetters().forEach(d -> items.add(toJson(d)));
    if (page.next() == null) {
      body.putNull("next");
    } else {
      body.put("next", page.next());
    }
    return HttpResponse.ok(Json.MAPPER.writeValueAsString(body));
  }

  @ApiDoc(
      summary = "One dead letter",
      description = "Ids look like `celery:42`.",
      responses = {
        @ApiResponse(status = 200, description = "the dead letter, as in the list"),
        @ApiResponse(status = 404, description = "no dead letter with this id")
      })
  @Get("/{id}")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> get(@PathVariable String id) {
    try {
      return deadLetters
          .find(id)
          .map(d -> HttpResponse.ok(Json.MAPPER.writeValueAsString(toJson(d))))
          .orElseGet(() -> notFound(id));
    } catch (DeadLetterStore.NotFoundException | BrokerException e) {
      return notFound(id);
    }
  }

  @ApiDoc(
      summary = "Send a dead letter back to its queue",
      description =
          "Its retries start again from 0; the task keeps its id and its state starts over at"
              + " PENDING.",
      responses = {
        @ApiResponse(
            status = 202,
            description = "sent: `{\"id\", \"taskId\", \"state\": \"PENDING\"}`",
            headers = "Location"),
        @ApiResponse(status = 404, description = "no dead letter with this id"),
        @ApiResponse(
            status = 503,
            description = "the broker did not confirm the replay; the dead letter stays",
            headers = "Retry-After")
      })
  @Post("/{id}/replay")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> replay(@PathVariable String id) {
    try {
      DeadLetter replayed = deadLetters.replay(id);
      ObjectNode body = Json.MAPPER.createObjectNode();
      body.put("id", replayed.id());
      body.put("taskId", replayed.taskId());
      body.put("state", "PENDING");
      MutableHttpResponse<String> response =
          HttpResponse.<String>status(HttpStatus.ACCEPTED)
              .body(Json.MAPPER.writeValueAsString(body));
      return replayed.taskId() == null
          ? response
          : response.header("Location", "/tasks/" + replayed.taskId());
    } catch (DeadLetterStore.NotFoundException | BrokerException e) {
      return notFound(id);
    } catch (CompletionException e) {
      return new Problem(
              HttpStatus.SERVICE_UNAVAILABLE,
              "the broker did not confirm the replay, the dead letter stays: "
                  + e.getCause().getMessage(),
              null)
          .response()
          .header("Retry-After", String.valueOf(TaskController.RETRY_AFTER_SECONDS));
    }
  }

  @ApiDoc(
      summary = "Drop a dead letter",
      responses = {
        @ApiResponse(status = 204, description = "dropped"),
        @ApiResponse(status = 404, description = "no dead letter with this id")
      })
  @Delete("/{id}")
  MutableHttpResponse<String> delete(@PathVariable String id) {
    try {
      deadLetters.delete(id);
      return HttpResponse.noContent();
    } catch (DeadLetterStore.NotFoundException | BrokerException e) {
      return notFound(id);
    }
  }

  /**
   * The dead letters of a queue that a filter matches, oldest first, at most {@link #MAX_LIMIT}.
   */
  record Matches(String queue, java.util.List<DeadLetter> deadLetters, boolean more) {}

  /**
   * @throws BrokerException when the queue has no dead-letter queue
   */
  Matches matching(String queue, DeadLetterFilter filter) {
    java.util.List<DeadLetter> found = new java.util.ArrayList<>();
    Long offset = 0L;
    while (offset != null) {
      DeadLetterStore.Page page = deadLetters.list(queue, offset, MAX_LIMIT);
      for (DeadLetter d : page.deadLetters()) {
        if (filter.matches(d)) {
          if (found.size() == MAX_LIMIT) {
            return new Matches(queue, java.util.List.copyOf(found), true);
          }
          found.add(d);
        }
      }
      offset = page.next();
    }
    return new Matches(queue, java.util.List.copyOf(found), false);
  }

  @ApiDoc(
      summary = "Send every dead letter that matches back to its queue",
      description =
          "Query: `queue` (default `celery`), `task` (a task name, exact) and `reason` (a text the"
              + " reason contains, ignoring case); without `task` and `reason`, every dead letter"
              + " of the queue. At most "
              + MAX_LIMIT
              + " per request, oldest first (`more`: true when others match: send it again). Each"
              + " is replayed as by POST /dead-letters/{id}/replay.",
      responses = {
        @ApiResponse(
            status = 200,
            description =
                "`{\"queue\", \"matched\", \"done\", \"more\", \"failed\": [{\"id\","
                    + " \"detail\"}]}`"),
        @ApiResponse(status = 404, description = "the queue has no dead-letter queue")
      })
  @Post("/replay")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> replayMatching(
      @QueryValue(defaultValue = LovageTopology.DEFAULT_QUEUE) String queue,
      @QueryValue(defaultValue = "") String task,
      @QueryValue(defaultValue = "") String reason) {
    return forEachMatching(queue, new DeadLetterFilter(task, reason), this::replay);
  }

  @ApiDoc(
      summary = "Drop every dead letter that matches",
      description =
          "Query as for POST /dead-letters/replay: `queue`, `task`, `reason`; without `task` and"
              + " `reason`, every dead letter of the queue. At most "
              + MAX_LIMIT
              + " per request.",
      responses = {
        @ApiResponse(
            status = 200,
            description =
                "`{\"queue\", \"matched\", \"done\", \"more\", \"failed\": [{\"id\","
                    + " \"detail\"}]}`"),
        @ApiResponse(status = 404, description = "the queue has no dead-letter queue")
      })
  @Delete
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> deleteMatching(
      @QueryValue(defaultValue = LovageTopology.DEFAULT_QUEUE) String queue,
      @QueryValue(defaultValue = "") String task,
      @QueryValue(defaultValue = "") String reason) {
    return forEachMatching(queue, new DeadLetterFilter(task, reason), this::delete);
  }

  /** One action per matching dead letter; the failures named, the others done. */
  private MutableHttpResponse<String> forEachMatching(
      String queue,
      DeadLetterFilter filter,
      java.util.function.Function<String, MutableHttpResponse<String>> action) {
    Matches matches;
    try {
      matches = matching(queue, filter);
    } catch (BrokerException e) {
      return new Problem(
              HttpStatus.NOT_FOUND, "no dead-letter queue for queue '" + queue + "'", null)
          .response();
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("queue", queue);
    body.put("matched", matches.deadLetters().size());
    ArrayNode failed = Json.MAPPER.createArrayNode();
    int done = 0;
    for (DeadLetter d : matches.deadLetters()) {
      MutableHttpResponse<String> answer = action.apply(d.id());
      if (answer.getStatus().getCode() < 300) {
        done++;
      } else {
        String detail =
            answer
                .getBody()
                .map(b -> Json.MAPPER.readTree(b).path("detail").asString(b))
                .orElse(answer.getStatus().getReason());
        failed.addObject().put("id", d.id()).put("detail", detail);
      }
    }
    body.put("done", done);
    body.put("more", matches.more());
    body.set("failed", failed);
    return HttpResponse.ok(Json.MAPPER.writeValueAsString(body));
  }

  private static MutableHttpResponse<String> notFound(String id) {
    return new Problem(HttpStatus.NOT_FOUND, "no dead letter '" + id + "'", null).response();
  }

  static ObjectNode toJson(DeadLetter d) {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("id", d.id());
    json.put("queue", d.queue());
    json.put("offset", d.offset());
    json.put("taskId", d.taskId());
    json.put("task", d.task());
    json.put("reason", d.reason());
    json.put("exceptionType", d.exceptionType());
    json.put("exceptionMessage", d.exceptionMessage());
    json.put("traceback", d.traceback());
    json.put("attempts", d.attempts());
    json.put("failedAt", d.failedAt());
    json.set("body", d.body());
    return json;
  }
}
