package io.lovage.producer;

import io.lovage.TaskState;
import io.lovage.broker.BrokerException;
import io.lovage.broker.LovageTopology;
import io.lovage.deadletter.DeadLetterStore;
import io.lovage.protocol.Json;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.result.WorkerDirectory;
import io.lovage.service.WithoutApiKey;
import io.lovage.service.openapi.Undocumented;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
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
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.server.types.files.StreamedFile;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.net.URI;
import java.net.URL;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The web dashboard at {@code /ui}: pages rendered here from the same stores the REST API reads (so
 * a shared link opened cold shows the data), refreshed in place by {@code dashboard.js}; its
 * actions call the REST controllers in-process, so they check and answer as the API does. Same port
 * and same API keys as the API (see {@link ApiKeyFilter} and {@link DashboardLogin}).
 */
@Controller("/ui")
@Produces(MediaType.TEXT_HTML)
@Undocumented
@ExecuteOn(TaskExecutors.BLOCKING)
final class DashboardController {
  /** Everything the pages load, served from the jar: no CDN, it works offline. */
  static final Set<String> ASSETS = Set.of("dashboard.css", "dashboard.js");

  /** Scripts and styles from this origin only; no inline script can run. */
  static final String CSP =
      "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'";

  private final EventStreamResultStore results;
  private final DeadLetterStore deadLetters;
  private final WorkerDirectory workers;
  private final RabbitManagement management;
  private final TaskController tasks;
  private final DeadLetterController deadLetterActions;
  private final WorkerController workerList;
  private final WorkflowController workflowReports;
  private final WorkflowStore workflows;
  private final boolean keysRequired;
  private final Clock clock = Clock.systemUTC();
  private final TaskThroughput throughput;
  private final QueueDepthSampler depths;
  private final ScheduleController schedules;
  private final LimitsController limits;

  DashboardController(
      EventStreamResultStore results,
      DeadLetterStore deadLetters,
      WorkerDirectory workers,
      RabbitManagement management,
      TaskController tasks,
      DeadLetterController deadLetterActions,
      WorkerController workerList,
      WorkflowController workflowReports,
      WorkflowStore workflows,
      @Nullable ApiKeyFilter keys,
      TaskThroughput throughput,
      QueueDepthSampler depths,
      ScheduleController schedules,
      LimitsController limits) {
    this.schedules = schedules;
    this.limits = limits;
    this.throughput = throughput;
    this.depths = depths;
    this.workerList = workerList;
    this.workflowReports = workflowReports;
    this.workflows = workflows;
    this.results = results;
    this.deadLetters = deadLetters;
    this.workers = workers;
    this.management = management;
    this.tasks = tasks;
    this.deadLetterActions = deadLetterActions;
    this.keysRequired = keys != null;
  }

  static boolean isDashboard(String path) {
    return path.equals("/ui") || path.startsWith("/ui/") || path.startsWith("/ui?");
  }

  @Get
  MutableHttpResponse<String> overview() {
    List<RabbitManagement.QueueStats> queues = null;
    String trouble = null;
    try {
      queues = management.queues();
    } catch (RabbitManagement.Unavailable e) {
      trouble = e.getMessage();
    }
    String body =
        OverviewCharts.render(
                throughput.series(), depths.depths().series(OverviewCharts.QUEUES), clock.instant())
            + OverviewPage.render(
                results.countByState(),
                queues,
                trouble,
                management::queuePage,
                workers.alive(),
                clock.instant());
    return page("Overview", "/ui", body);
  }

  @Get("/queues")
  MutableHttpResponse<String> queues() {
    StringBuilder body = new StringBuilder("<section id=\"queues-live\" data-live>\n");
    try {
      OverviewPage.queues(body, management.queues(), null, management::queuePage);
    } catch (RabbitManagement.Unavailable e) {
      OverviewPage.queues(body, null, e.getMessage(), management::queuePage);
    }
    return page("Queues", "/ui/queues", body.append("</section>\n").toString());
  }

  @Get("/workers")
  MutableHttpResponse<String> workers(@QueryValue(defaultValue = "") String notice) {
    String message =
        switch (notice) {
          case "shutdown" -> "Shutdown sent.";
          case "consume" -> "The worker consumes the queue now.";
          case "cancel" -> "The worker stopped consuming the queue.";
          default -> null;
        };
    String body =
        DashboardPage.notice(message, false)
            + WorkersPage.render(Json.MAPPER.readTree(workerList.list()), clock.instant());
    return page("Workers", "/ui/workers", body);
  }

  @Post(value = "/workers/{hostname}/shutdown", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> shutdown(
      HttpRequest<?> request, @PathVariable String hostname, @Nullable @Body byte[] body) {
    if (!sameOrigin(request)) {
      return refused();
    }
    var answer = workerList.shutdown(hostname);
    if (answer.getStatus().getCode() >= 300) {
      return failed("Shutdown failed", answer);
    }
    return seeOther("/ui/workers?notice=shutdown");
  }

  @Post(value = "/workers/{hostname}/queues", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> workerQueues(
      HttpRequest<?> request, @PathVariable String hostname, @Nullable @Body byte[] body) {
    if (!sameOrigin(request)) {
      return refused();
    }
    var form = DashboardLogin.form(body);
    boolean consume = "true".equals(form.get("consume"));
    var json = Json.MAPPER.createObjectNode();
    json.put("queue", form.getOrDefault("queue", "").strip());
    json.put("consume", consume);
    var answer = workerList.queues(hostname, Json.MAPPER.writeValueAsString(json));
    if (answer.getStatus().getCode() >= 300) {
      return failed(consume ? "Add consumer failed" : "Cancel consumer failed", answer);
    }
    return seeOther("/ui/workers?notice=" + (consume ? "consume" : "cancel"));
  }

  @Get("/schedules")
  MutableHttpResponse<String> scheduleList(@QueryValue(defaultValue = "") String notice) {
    var list = Json.MAPPER.readTree(schedules.list().body());
    java.util.Map<String, tools.jackson.databind.JsonNode> runs = new java.util.HashMap<>();
    list.path("schedules")
        .forEach(
            s -> {
              String name = s.path("name").asString("");
              schedules
                  .runs(name)
                  .getBody()
                  .ifPresent(b -> runs.put(name, Json.MAPPER.readTree(b)));
            });
    String message =
        switch (notice) {
          case "run" -> "One run sent.";
          case "pause" -> "Paused.";
          case "resume" -> "Resumed.";
          case "delete" -> "Deleted.";
          default -> null;
        };
    return page(
        "Schedules",
        "/ui/schedules",
        DashboardPage.notice(message, false) + SchedulesPage.render(list, runs));
  }

  @Post(value = "/schedules/{name}/{action}", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> scheduleAction(
      HttpRequest<?> request,
      @PathVariable String name,
      @PathVariable String action,
      @Nullable @Body byte[] body) {
    if (!sameOrigin(request)) {
      return refused();
    }
    MutableHttpResponse<String> answer =
        switch (action) {
          case "run" -> schedules.runNow(name);
          case "delete" -> schedules.delete(name);
          case "pause", "resume" -> enable(name, action.equals("resume"));
          default -> null;
        };
    if (answer == null) {
      return noAction(action);
    }
    if (answer.getStatus().getCode() >= 300) {
      return failed("Schedule not changed", answer);
    }
    return seeOther("/ui/schedules?notice=" + action);
  }

  /** Pause or resume: the schedule as it is, with {@code enabled} changed, as PUT would put it. */
  private MutableHttpResponse<String> enable(String name, boolean on) {
    MutableHttpResponse<String> shown = schedules.show(name);
    if (shown.getStatus() != HttpStatus.OK) {
      return shown;
    }
    var json = (tools.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(shown.body());
    json.remove(java.util.List.of("nextRun", "lastRun", "lastTaskId", "lastState"));
    json.put("enabled", on);
    return schedules.replace(name, Json.MAPPER.writeValueAsBytes(json));
  }

  @Get("/limits")
  MutableHttpResponse<String> limitList() {
    return page(
        "Limits", "/ui/limits", LimitsPage.render(Json.MAPPER.readTree(limits.list().body())));
  }

  @Get("/tasks")
  MutableHttpResponse<String> taskList(
      @QueryValue(defaultValue = "") String state,
      @QueryValue(defaultValue = "") String task,
      @QueryValue(defaultValue = "") String queue,
      @QueryValue(defaultValue = "") String worker,
      @QueryValue(defaultValue = "") String id,
      @QueryValue(defaultValue = "") String since,
      @QueryValue(defaultValue = "0") int offset) {
    TaskState wanted = null;
    String problem = null;
    if (!state.isBlank()) {
      try {
        wanted = TaskState.valueOf(state.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        problem = "Unknown state '" + state + "': showing every state.";
      }
    }
    Instant after = null;
    try {
      after = TaskPages.since(since.strip(), clock.instant());
    } catch (IllegalArgumentException e) {
      problem = e.getMessage();
    }
    var filters =
        new TaskPages.Filters(
            wanted,
            task.strip(),
            queue.strip(),
            worker.strip(),
            id.strip(),
            after == null ? "" : since.strip(),
            after,
            Math.max(0, offset));
    // One more than a page tells whether there is a next page.
    List<TaskRecord> rows =
        results.recent(filters.predicate(), filters.offset(), TaskPages.PAGE + 1);
    boolean more = rows.size() > TaskPages.PAGE;
    String body =
        DashboardPage.notice(problem, true)
            + TaskPages.list(
                filters,
                more ? rows.subList(0, TaskPages.PAGE) : rows,
                more,
                workflows::workflowOf);
    return page("Tasks", "/ui/tasks", body);
  }

  @Get("/tasks/{id}")
  MutableHttpResponse<String> task(
      HttpRequest<?> request,
      @PathVariable String id,
      @QueryValue(defaultValue = "") String notice) {
    var record = results.find(id);
    if (record.isEmpty()) {
      String why =
          results.caughtUp()
              ? "No task with id '" + id + "' is known (or it has expired)."
              : "Task '" + id + "' is not known yet: the producer is still reading the history.";
      return html(
          results.caughtUp() ? HttpStatus.NOT_FOUND : HttpStatus.SERVICE_UNAVAILABLE,
          DashboardPage.render(
              "Task not found", "/ui/tasks", DashboardPage.notice(why, true), keysRequired));
    }
    String message =
        switch (notice) {
          case "revoked" -> "Revocation sent.";
          case "resubmitted" -> "Resubmitted: this is a new task with the same arguments.";
          default -> null;
        };
    String body =
        DashboardPage.notice(message, false)
            + TaskPages.detail(
                record.get(),
                baseUrl(request),
                workflows.workflowOf(id).orElse(null),
                results.recent(c -> id.equals(c.parentId()), 0, TaskPages.CHILDREN));
    return page("Task " + record.get().task(), "/ui/tasks", body);
  }

  @Post(value = "/tasks/{id}/revoke", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> revoke(
      HttpRequest<?> request, @PathVariable String id, @Nullable @Body byte[] body) {
    if (!sameOrigin(request)) {
      return refused();
    }
    boolean terminate = "true".equals(DashboardLogin.form(body).get("terminate"));
    var answer = tasks.revoke(id, terminate);
    if (answer.getStatus().getCode() >= 300) {
      return failed("Revoke failed", answer);
    }
    return seeOther("/ui/tasks/" + Html.query(id) + "?notice=revoked");
  }

  /**
   * Sends a finished task again as a new task (same name, args, kwargs and queue) through {@code
   * POST /tasks}'s own code, and shows the new task. Refused when its arguments are not kept whole.
   */
  @Post(value = "/tasks/{id}/resubmit", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> resubmit(
      HttpRequest<?> request, @PathVariable String id, @Nullable @Body byte[] body) {
    if (!sameOrigin(request)) {
      return refused();
    }
    var record = results.find(id);
    if (record.isEmpty()) {
      return problem(HttpStatus.NOT_FOUND, "Resubmit failed", "No task with id '" + id + "'.");
    }
    byte[] submission;
    try {
      submission = Resubmission.body(record.get());
    } catch (Resubmission.Refused e) {
      return problem(HttpStatus.CONFLICT, "Resubmit refused", e.getMessage());
    }
    var answer = tasks.submit(submission, null);
    if (answer.getStatus().getCode() >= 300) {
      return failed("Resubmit failed", answer);
    }
    String newId = Json.MAPPER.readTree(answer.getBody().orElseThrow()).path("id").asString();
    return seeOther("/ui/tasks/" + Html.query(newId) + "?notice=resubmitted");
  }

  /** A workflow's tree, from what {@code GET /workflows/{id}} answers. */
  @Get("/workflows/{id}")
  MutableHttpResponse<String> workflow(@PathVariable String id) {
    var answer = workflowReports.get(id);
    if (answer.getStatus().getCode() >= 300) {
      return failed(
          answer.getStatus() == HttpStatus.NOT_FOUND
              ? "Workflow not found"
              : "Workflow unknown yet",
          answer);
    }
    return page(
        "Workflow",
        "/ui/tasks",
        WorkflowPage.render(Json.MAPPER.readTree(answer.getBody().orElseThrow())));
  }

  @Get("/dead-letters")
  MutableHttpResponse<String> deadLetterList(
      @QueryValue(defaultValue = LovageTopology.DEFAULT_QUEUE) String queue,
      @QueryValue(defaultValue = "0") long offset,
      @QueryValue(defaultValue = "") String notice,
      @QueryValue(defaultValue = "") String task,
      @QueryValue(defaultValue = "") String reason,
      @QueryValue(defaultValue = "0") int done,
      @QueryValue(defaultValue = "0") int failures) {
    List<String> queues = List.of();
    try {
      queues =
          management.queues().stream()
              .map(RabbitManagement.QueueStats::name)
              .filter(n -> n.endsWith(DeadLetterPage.SUFFIX))
              .map(n -> n.substring(0, n.length() - DeadLetterPage.SUFFIX.length()))
              .sorted()
              .toList();
    } catch (RabbitManagement.Unavailable e) {
      // The picker is a convenience: the queue can still be typed in.
    }
    var filter = new DeadLetterFilter(task, reason);
    DeadLetterStore.Page page;
    DeadLetterController.Matches matches = null;
    try {
      matches = deadLetterActions.matching(queue, filter);
      page =
          filter.isEmpty()
              ? deadLetters.list(queue, Math.max(0, offset), DeadLetterController.DEFAULT_LIMIT)
              : new DeadLetterStore.Page(
                  queue,
                  matches.deadLetters().stream().limit(DeadLetterController.DEFAULT_LIMIT).toList(),
                  null);
    } catch (BrokerException e) {
      page = null;
    }
    String failed = failures == 0 ? "" : "; " + failures + " could not be (listed still)";
    String message =
        switch (notice) {
          case "replayed" -> "Replayed: the task is back in its queue.";
          case "deleted" -> "Deleted.";
          case "replayed-all" -> "Replayed " + done + " dead letter(s)" + failed + ".";
          case "deleted-all" -> "Deleted " + done + " dead letter(s)" + failed + ".";
          default -> null;
        };
    return page(
        "Dead letters",
        "/ui/dead-letters",
        DashboardPage.notice(message, false)
            + DeadLetterPage.render(queue, queues, page, Math.max(0, offset), filter, matches));
  }

  @Post(value = "/dead-letters/replay-all", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> replayAllDeadLetters(
      HttpRequest<?> request, @Nullable @Body byte[] body) {
    return deadLetterBulk(request, true, body);
  }

  @Post(value = "/dead-letters/delete-all", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> deleteAllDeadLetters(
      HttpRequest<?> request, @Nullable @Body byte[] body) {
    return deadLetterBulk(request, false, body);
  }

  /** Every dead letter that the form's filter matches, through the REST API's bulk code. */
  private MutableHttpResponse<String> deadLetterBulk(
      HttpRequest<?> request, boolean replay, @Nullable byte[] body) {
    if (!sameOrigin(request)) {
      return refused();
    }
    var form = DashboardLogin.form(body);
    String queue = form.getOrDefault("queue", LovageTopology.DEFAULT_QUEUE);
    String task = form.getOrDefault("task", "");
    String reason = form.getOrDefault("reason", "");
    var answer =
        replay
            ? deadLetterActions.replayMatching(queue, task, reason)
            : deadLetterActions.deleteMatching(queue, task, reason);
    if (answer.getStatus().getCode() >= 300) {
      return failed(replay ? "Replay failed" : "Delete failed", answer);
    }
    var result = Json.MAPPER.readTree(answer.body());
    return seeOther(
        "/ui/dead-letters?queue="
            + Html.query(queue)
            + "&task="
            + Html.query(task)
            + "&reason="
            + Html.query(reason)
            + "&notice="
            + (replay ? "replayed-all" : "deleted-all")
            + "&done="
            + result.path("done").asInt()
            + "&failures="
            + result.path("failed").size());
  }

  @Post(value = "/dead-letters/{id}/{action}", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> deadLetterAction(
      HttpRequest<?> request,
      @PathVariable String id,
      @PathVariable String action,
      @Nullable @Body byte[] body) {
    if (!sameOrigin(request)) {
      return refused();
    }
    String queue = DashboardLogin.form(body).getOrDefault("queue", LovageTopology.DEFAULT_QUEUE);
    MutableHttpResponse<String> answer =
        switch (action) {
          case "replay" -> deadLetterActions.replay(id);
          case "delete" -> deadLetterActions.delete(id);
          default -> null;
        };
    if (answer == null) {
      return noAction(action);
    }
    if (answer.getStatus().getCode() >= 300) {
      return failed(action.equals("replay") ? "Replay failed" : "Delete failed", answer);
    }
    return seeOther(
        "/ui/dead-letters?queue="
            + Html.query(queue)
            + "&notice="
            + (action.equals("replay") ? "replayed" : "deleted"));
  }

  @Get("/assets/{file}")
  @Produces(MediaType.ALL)
  @WithoutApiKey
  HttpResponse<?> asset(@PathVariable String file) {
    URL url = ASSETS.contains(file) ? getClass().getResource("/dashboard/" + file) : null;
    if (url == null) {
      return HttpResponse.notFound();
    }
    return HttpResponse.ok(new StreamedFile(url)).header("Cache-Control", "no-cache");
  }

  /**
   * Whether a form was sent from this site's own pages: browsers send {@code Sec-Fetch-Site} or
   * {@code Origin} on a POST; a form on another site must not revoke or delete (with no API keys
   * set there is no session cookie to stop it).
   */
  static boolean sameOrigin(HttpRequest<?> request) {
    String site = request.getHeaders().get("Sec-Fetch-Site");
    if (site != null) {
      return site.equals("same-origin") || site.equals("none");
    }
    String origin = request.getHeaders().get("Origin");
    if (origin == null || origin.equals("null")) {
      return origin == null;
    }
    String host = request.getHeaders().get("Host");
    try {
      return host != null && host.equalsIgnoreCase(new URI(origin).getRawAuthority());
    } catch (java.net.URISyntaxException e) {
      return false;
    }
  }

  private MutableHttpResponse<String> page(String title, String current, String body) {
    return html(HttpStatus.OK, DashboardPage.render(title, current, body, keysRequired));
  }

  static MutableHttpResponse<String> html(HttpStatus status, String page) {
    return HttpResponse.<String>status(status)
        .body(page)
        .contentType(MediaType.TEXT_HTML + ";charset=utf-8")
        .header("Content-Security-Policy", CSP)
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "same-origin")
        .header("Cache-Control", "no-store");
  }

  private MutableHttpResponse<String> noAction(String action) {
    return html(
        HttpStatus.NOT_FOUND,
        DashboardPage.render(
            "Not found",
            "",
            DashboardPage.notice("No action '" + action + "'.", true),
            keysRequired));
  }

  private MutableHttpResponse<String> refused() {
    return html(
        HttpStatus.FORBIDDEN,
        DashboardPage.render(
            "Refused",
            "",
            DashboardPage.notice("This form was sent from another site; nothing was done.", true),
            keysRequired));
  }

  private MutableHttpResponse<String> problem(HttpStatus status, String title, String detail) {
    return html(
        status, DashboardPage.render(title, "", DashboardPage.notice(detail, true), keysRequired));
  }

  /** The REST controller's problem, shown as a page with the same status. */
  private MutableHttpResponse<String> failed(String title, MutableHttpResponse<String> answer) {
    String detail =
        answer
            .getBody()
            .map(b -> Json.MAPPER.readTree(b).path("detail").asString(b))
            .orElse(answer.getStatus().getReason());
    return html(
        answer.getStatus(),
        DashboardPage.render(title, "", DashboardPage.notice(detail, true), keysRequired));
  }

  private static MutableHttpResponse<String> seeOther(String location) {
    return HttpResponse.<String>seeOther(URI.create(location));
  }

  /** This service's address as the browser reached it, for the copy-as-curl command. */
  private static String baseUrl(HttpRequest<?> request) {
    String host = request.getHeaders().get("Host");
    return (request.isSecure() ? "https://" : "http://") + (host == null ? "localhost:8080" : host);
  }
}
