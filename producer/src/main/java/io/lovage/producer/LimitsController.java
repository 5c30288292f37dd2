package io.lovage.producer;

import static io.lovage.producer.ChangeResponses.invalid;
import static io.lovage.producer.ChangeResponses.json;
import static io.lovage.producer.ChangeResponses.once;

import io.lovage.ConcurrencyLimit;
import io.lovage.RateLimit;
import io.lovage.broker.Broker;
import io.lovage.broker.BrokerException;
import io.lovage.broker.LovageTopology;
import io.lovage.limits.LimitBook;
import io.lovage.limits.TaskLimits;
import io.lovage.protocol.Json;
import io.lovage.service.Problem;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /limits}: run-time limits of tasks, fleet-wide: every worker that runs the task applies
 * them in place of the limits it was registered with or that its settings give it, until they are
 * deleted. Every replica answers for every task.
 */
@Controller("/limits")
@ExecuteOn(TaskExecutors.BLOCKING)
final class LimitsController {
  private final LimitBook book;
  private final Broker broker;

  LimitsController(LimitBook book, Broker broker) {
    this.book = book;
    this.broker = broker;
  }

  @ApiDoc(
      summary = "Set a task's limits",
      description =
          "Body: any subset of `{\"rate\": \"50/s\" | \"100/m\" | \"1000/h\", \"scope\":"
              + " \"worker\" | \"global\", \"concurrency\", \"concurrencyKey\"}`; a field left out"
              + " keeps its value, `null` removes it (`\"rate\": null`: each worker's own rate"
              + " again; `\"rate\": \"0\"`: no rate limit, whatever the worker's own). Scope"
              + " `worker` (the default, Celery's meaning): each worker starts at most that many;"
              + " `global`: the whole fleet does. `concurrency`: how many run at once across"
              + " the fleet (0: no limit), per value of the argument `concurrencyKey` if given;"
              + " a new one applies to tasks that start after it.",
      responses = {
        @ApiResponse(status = 200, description = "replaced: the task's limits now"),
        @ApiResponse(status = 201, description = "created: the task's limits now"),
        @ApiResponse(status = 400, description = "not valid limits: which field and why"),
        @ApiResponse(status = 503, description = "the broker did not take the change")
      })
  @Put(value = "/{task}", consumes = MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> put(@PathVariable String task, @Body byte[] body) {
    Optional<TaskLimits> before = book.find(task);
    TaskLimits after;
    try {
      after = before.orElse(TaskLimits.of(task)).patched(Json.MAPPER.readTree(body));
    } catch (JacksonException e) {
      return Problem.badRequest(null, "request body is not valid JSON: " + e.getOriginalMessage())
          .response();
    } catch (TaskLimits.Invalid e) {
      return invalid(e);
    }
    HttpStatus status = before.isPresent() ? HttpStatus.OK : HttpStatus.CREATED;
    return once(
        book.put(after), put -> json(status, put.toJson()).header("Location", "/limits/" + task));
  }

  @ApiDoc(
      summary = "Every task's limits",
      description = "The tasks that have limits set here, each as for GET /limits/{task}.",
      responses = @ApiResponse(status = 200, description = "`{\"limits\": [...]}`"))
  @Get
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> list() {
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode list = body.putArray("limits");
    book.all().forEach(limits -> list.add(withUse(limits)));
    return json(HttpStatus.OK, body);
  }

  @ApiDoc(
      summary = "One task's limits",
      description =
          "`{\"task\", \"rate\", \"scope\", \"at\"}`; `rate` null: each worker's own. A global"
              + " rate and a concurrency per task have their current use too: `\"use\":"
              + " {\"tokensReady\", \"workers\", \"permitsInUse\"}`, the tokens waiting in its queue,"
              + " the workers sharing it and the permits held, as RabbitMQ counts them now.",
      responses = {
        @ApiResponse(status = 200, description = "the task's limits"),
        @ApiResponse(status = 404, description = "no limits set for that task")
      })
  @Get("/{task}")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> show(@PathVariable String task) {
    return book.find(task)
        .map(limits -> json(HttpStatus.OK, withUse(limits)))
        .orElseGet(() -> notFound(task));
  }

  @ApiDoc(
      summary = "Delete a task's limits",
      responses = {
        @ApiResponse(
            status = 204,
            description = "deleted: each worker goes back to the task's own limits"),
        @ApiResponse(status = 404, description = "no limits set for that task"),
        @ApiResponse(status = 503, description = "the broker did not take the change")
      })
  @Delete("/{task}")
  MutableHttpResponse<String> delete(@PathVariable String task) {
    if (book.find(task).isEmpty()) {
      return notFound(task);
    }
    return once(book.delete(task), deleted -> HttpResponse.noContent());
  }

  /**
   * The limits as JSON, with their use now as RabbitMQ counts it: a global rate's tokens ready and
   * the workers sharing it, and the permits in use of a concurrency limit per task.
   */
  private ObjectNode withUse(TaskLimits limits) {
    ObjectNode json = limits.toJson();
    ObjectNode use = Json.MAPPER.createObjectNode();
    try {
      Optional<RateLimit> global = limits.rateLimit().filter(RateLimit::isGlobal);
      if (global.isPresent()) {
        Optional<Broker.QueueCounts> tokens =
            broker.inspect(LovageTopology.rateTokens(limits.task()));
        int perMessage = global.get().tokensPerMessage();
        use.put("tokensReady", tokens.map(counts -> counts.ready() * perMessage).orElse(0L));
        use.put("workers", tokens.map(Broker.QueueCounts::consumers).orElse(0));
      }
      Optional<ConcurrencyLimit> concurrency =
          limits.concurrencyLimit().filter(c -> c.isLimited() && !c.isPerKey());
      if (concurrency.isPresent()) {
        int permits = concurrency.get().permits();
        Optional<Broker.QueueCounts> free =
            broker.inspect(LovageTopology.concurrencyPermits(limits.task(), permits));
        use.put("permitsInUse", free.map(counts -> permits - counts.ready()).orElse(0L));
      }
    } catch (BrokerException e) {
      use.put("error", "the broker did not answer: " + e.getMessage());
    }
    if (!use.isEmpty()) {
      json.set("use", use);
    }
    return json;
  }

  private static MutableHttpResponse<String> notFound(String task) {
    return new Problem(HttpStatus.NOT_FOUND, "no limits set for task '" + task + "'", null)
        .response();
  }
}
