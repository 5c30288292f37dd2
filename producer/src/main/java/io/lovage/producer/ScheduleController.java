package io.lovage.producer;

import static io.lovage.producer.ChangeResponses.invalid;
import static io.lovage.producer.ChangeResponses.json;
import static io.lovage.producer.ChangeResponses.once;

import io.lovage.TaskState;
import io.lovage.protocol.Json;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.schedule.Schedule;
import io.lovage.schedule.Scheduler;
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
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /schedules}: periodic tasks, defined here, in {@code LOVAGE_SCHEDULES} or from Java, run
 * by whichever replica leads the scheduler. Every replica answers for every schedule.
 */
@Controller("/schedules")
@ExecuteOn(TaskExecutors.BLOCKING)
final class ScheduleController {
  private final Scheduler scheduler;
  private final EventStreamResultStore results;

  ScheduleController(Scheduler scheduler, EventStreamResultStore results) {
    this.scheduler = scheduler;
    this.results = results;
  }

  @ApiDoc(
      summary = "Create a periodic task",
      description =
          "Body: `{\"name\", \"task\", \"args\", \"kwargs\", \"queue\", \"every\" (seconds) |"
              + " \"cron\" + \"timezone\" | \"at\" (ISO-8601 with offset), \"expires\" (seconds),"
              + " \"catchUp\" (once, skip, all), \"enabled\"}`. Instead of `task`, `args` and"
              + " `kwargs`, a `workflow` as for POST /workflows that starts with one task (a task,"
              + " or a chain whose first step is a task): each run is that task's message with the"
              + " rest of the chain in it.",
      responses = {
        @ApiResponse(status = 201, description = "the schedule, with `nextRun`"),
        @ApiResponse(status = 400, description = "not a valid schedule: which field and why"),
        @ApiResponse(status = 409, description = "a schedule of that name exists")
      })
  @Post(consumes = MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> create(@Body byte[] body) {
    Schedule schedule;
    try {
      schedule = ScheduleJson.read(Json.MAPPER.readTree(body));
    } catch (JacksonException e) {
      return Problem.badRequest(null, "request body is not valid JSON: " + e.getOriginalMessage())
          .response();
    } catch (Schedule.Invalid e) {
      return invalid(e);
    }
    if (scheduler.find(schedule.name()).isPresent()) {
      return new Problem(
              HttpStatus.CONFLICT, "a schedule named '" + schedule.name() + "' exists", "/name")
          .response();
    }
    return saved(schedule, HttpStatus.CREATED);
  }

  @ApiDoc(
      summary = "Create or replace a periodic task",
      description = "The body as for POST; its `name`, if given, must be the one in the path.",
      responses = {
        @ApiResponse(status = 200, description = "replaced"),
        @ApiResponse(status = 201, description = "created"),
        @ApiResponse(status = 400, description = "not a valid schedule")
      })
  @Put(value = "/{name}", consumes = MediaType.APPLICATION_JSON)
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> replace(@PathVariable String name, @Body byte[] body) {
    Schedule schedule;
    try {
      JsonNode json = Json.MAPPER.readTree(body);
      if (json.isObject()) {
        JsonNode given = json.path("name");
        if (!given.isMissingNode() && !given.isNull() && !name.equals(given.asString(""))) {
          return Problem.badRequest("/name", "the name in the body is not the one in the path")
              .response();
        }
        ((ObjectNode) json).put("name", name);
      }
      schedule = ScheduleJson.read(json);
    } catch (JacksonException e) {
      return Problem.badRequest(null, "request body is not valid JSON: " + e.getOriginalMessage())
          .response();
    } catch (Schedule.Invalid e) {
      return invalid(e);
    }
    boolean existed = scheduler.find(name).isPresent();
    return saved(schedule, existed ? HttpStatus.OK : HttpStatus.CREATED);
  }

  @ApiDoc(
      summary = "Every periodic task",
      description = "Each with `nextRun`, `lastRun`, `lastTaskId` and `lastState`.",
      responses = @ApiResponse(status = 200, description = "`{\"schedules\": [...]}`"))
  @Get
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> list() {
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode list = body.putArray("schedules");
    scheduler.schedules().forEach(schedule -> list.add(describe(schedule)));
    body.put("leader", scheduler.isLeader());
    return json(HttpStatus.OK, body);
  }

  @ApiDoc(
      summary = "One periodic task",
      responses = {
        @ApiResponse(status = 200, description = "the schedule, with its next and last run"),
        @ApiResponse(status = 404, description = "no schedule of that name")
      })
  @Get("/{name}")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> show(@PathVariable String name) {
    return scheduler
        .find(name)
        .map(schedule -> json(HttpStatus.OK, describe(schedule)))
        .orElseGet(() -> notFound(name));
  }

  @ApiDoc(
      summary = "Delete a periodic task",
      responses = {
        @ApiResponse(status = 204, description = "deleted: no run of it is sent any more"),
        @ApiResponse(status = 404, description = "no schedule of that name")
      })
  @Delete("/{name}")
  MutableHttpResponse<String> delete(@PathVariable String name) {
    if (scheduler.find(name).isEmpty()) {
      return notFound(name);
    }
    return once(scheduler.delete(name), deleted -> HttpResponse.noContent());
  }

  @ApiDoc(
      summary = "Run a periodic task now",
      description = "Sends one run now, besides its schedule; the next scheduled run is unchanged.",
      responses = {
        @ApiResponse(status = 202, description = "`{\"id\", \"state\": \"PENDING\"}`"),
        @ApiResponse(status = 404, description = "no schedule of that name")
      })
  @Post("/{name}/run")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> runNow(@PathVariable String name) {
    if (scheduler.find(name).isEmpty()) {
      return notFound(name);
    }
    return once(
        scheduler.runNow(name),
        sent -> {
          ObjectNode body = Json.MAPPER.createObjectNode();
          body.put("id", sent.id());
          body.put("state", TaskState.PENDING.name());
          return json(HttpStatus.ACCEPTED, body).header("Location", "/tasks/" + sent.id());
        });
  }

  @ApiDoc(
      summary = "The latest runs of a periodic task",
      description = "Newest first: scheduled time, task id and the task's state.",
      responses = {
        @ApiResponse(
            status = 200,
            description = "`{\"runs\": [{\"scheduled\", \"id\", \"state\"}]}`"),
        @ApiResponse(status = 404, description = "no schedule of that name")
      })
  @Get("/{name}/runs")
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> runs(@PathVariable String name) {
    if (scheduler.find(name).isEmpty()) {
      return notFound(name);
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode runs = body.putArray("runs");
    for (Scheduler.Run run : scheduler.runs(name)) {
      ObjectNode item = runs.addObject();
      item.put("scheduled", run.scheduled().toString());
      item.put("id", run.taskId());
      item.put("state", state(run.taskId()));
    }
    return json(HttpStatus.OK, body);
  }

  private MutableHttpResponse<String> saved(Schedule schedule, HttpStatus status) {
    return once(
        scheduler.put(schedule),
        put ->
            json(status, describe(schedule)).header("Location", "/schedules/" + schedule.name()));
  }

  private ObjectNode describe(Schedule schedule) {
    ObjectNode json = schedule.toJson();
    json.put("nextRun", scheduler.nextRun(schedule.name()).map(Object::toString).orElse(null));
    json.put("lastRun", scheduler.lastRun(schedule.name()).map(Object::toString).orElse(null));
    var last = scheduler.runs(schedule.name()).stream().findFirst();
    json.put("lastTaskId", last.map(Scheduler.Run::taskId).orElse(null));
    json.put("lastState", last.map(run -> state(run.taskId())).orElse(null));
    return json;
  }

  private String state(String taskId) {
    return results.find(taskId).map(TaskRecord::state).orElse(TaskState.PENDING).name();
  }

  private static MutableHttpResponse<String> notFound(String name) {
    return new Problem(HttpStatus.NOT_FOUND, "no schedule named '" + name + "'", null).response();
  }
}
