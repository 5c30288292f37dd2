package io.lovage.producer;

import static io.lovage.producer.DashboardPage.between;
import static io.lovage.producer.DashboardPage.state;
import static io.lovage.producer.DashboardPage.time;
import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.query;

import io.lovage.TaskError;
import io.lovage.TaskState;
import io.lovage.result.TaskArguments;
import io.lovage.result.TaskRecord;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/** The dashboard's task list ({@code /ui/tasks}) and a task's page ({@code /ui/tasks/{id}}). */
final class TaskPages {
  private TaskPages() {}

  static final int PAGE = 50;

  /** A task page lists at most this many of the tasks it sent (callbacks, a chain's next step). */
  static final int CHILDREN = 20;

  /**
   * The list's filters, as the query parameters of a shareable address: {@code
   * ?state=FAILURE&task=demo.add&queue=celery&worker=w1&id=4b6e&since=1h&offset=50}. Empty is any.
   *
   * @param since the time range as asked: one of {@link #RANGES}' keys, any {@code <n>m|h|d}, or an
   *     ISO instant; empty for any time
   * @param after the instant {@code since} means now; null for any time
   */
  record Filters(
      TaskState state,
      String task,
      String queue,
      String worker,
      String id,
      String since,
      Instant after,
      int offset) {
    Predicate<TaskRecord> predicate() {
      return r ->
          (state == null || r.state() == state)
              && (task.isEmpty() || task.equals(r.task()))
              && (queue.isEmpty() || queue.equals(r.queue()))
              && (worker.isEmpty() || worker.equals(r.worker()))
              && (id.isEmpty() || r.id().startsWith(id))
              && (after == null || !before(r, after));
    }

    /** The address of this list at another offset. */
    String at(int offset) {
      StringBuilder q = new StringBuilder("/ui/tasks?");
      if (state != null) {
        q.append("state=").append(state.name()).append('&');
      }
      append(q, "task", task);
      append(q, "queue", queue);
      append(q, "worker", worker);
      append(q, "id", id);
      append(q, "since", since);
      return q.append("offset=").append(offset).toString();
    }

    private static void append(StringBuilder q, String name, String value) {
      if (!value.isEmpty()) {
        q.append(name).append('=').append(query(value)).append('&');
      }
    }
  }

  /** A time range the filter form offers: its {@code since} value and its label. */
  record Range(String since, String label) {}

  static final List<Range> RANGES =
      List.of(
          new Range("5m", "last 5 minutes"),
          new Range("15m", "last 15 minutes"),
          new Range("1h", "last hour"),
          new Range("6h", "last 6 hours"),
          new Range("24h", "last 24 hours"),
          new Range("7d", "last 7 days"));

  private static final Pattern RELATIVE = Pattern.compile("(\\d{1,6})([smhd])");

  /**
   * The instant a {@code since} parameter means at {@code now}: {@code 15m}, {@code 1h}, {@code
   * 24h}, {@code 7d} (any number of s, m, h or d) back from now, or an ISO instant such as {@code
   * 2026-12-02T15:00:00Z}; null for empty.
   *
   * @throws IllegalArgumentException when it is neither
   */
  static Instant since(String text, Instant now) {
    if (text.isEmpty()) {
      return null;
    }
    Matcher relative = RELATIVE.matcher(text);
    if (relative.matches()) {
      long n = Long.parseLong(relative.group(1));
      return now.minus(
          switch (relative.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
          });
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "Unknown time range '"
              + text
              + "' (use 15m, 1h, 24h, 7d or an instant such as 2026-12-02T15:00:00Z): showing"
              + " any time.");
    }
  }

  /**
   * Whether a task was sent before {@code after}: its sent time, or its first other event's when no
   * task-sent was seen; a task with no time at all is not known to be in the range.
   */
  private static boolean before(TaskRecord r, Instant after) {
    Instant first =
        r.sent() != null
            ? r.sent()
            : r.received() != null
                ? r.received()
                : r.started() != null ? r.started() : r.finished();
    return first == null || first.isBefore(after);
  }

  /** The list: a filter form, then the rows (which the page's script refreshes), then paging. */
  static String list(
      Filters f,
      List<TaskRecord> rows,
      boolean more,
      Function<String, Optional<String>> workflowOf) {
    StringBuilder html = new StringBuilder();
    html.append("<form method=\"get\" action=\"/ui/tasks\" class=\"filters\" role=\"search\">")
        .append("<label>State <select name=\"state\"><option value=\"\">any</option>");
    for (TaskState s : TaskState.values()) {
      html.append("<option")
          .append(s == f.state() ? " selected" : "")
          .append('>')
          .append(s.name())
          .append("</option>");
    }
    html.append("</select></label>")
        .append(input("Task", "task", f.task(), "demo.add"))
        .append(input("Queue", "queue", f.queue(), "celery"))
        .append(input("Worker", "worker", f.worker(), ""))
        .append(input("Id", "id", f.id(), "id or its start"))
        .append(timeRange(f.since()))
        .append("<button>Filter</button> <a href=\"/ui/tasks\">Clear</a></form>\n");
    html.append("<section id=\"tasks-live\" data-live aria-live=\"polite\">\n");
    if (rows.isEmpty()) {
      html.append("<p class=\"empty\">No tasks match.</p>\n");
    } else {
      html.append(
          "<div class=\"scroll\"><table class=\"tasks\"><thead><tr><th>State</th><th>Task</th>"
              + "<th>Id</th><th>Queue</th><th>Worker</th><th>Retries</th><th>Sent (UTC)</th>"
              + "<th>Ran</th></tr></thead><tbody>\n");
      for (TaskRecord r : rows) {
        html.append("<tr data-task-id=\"")
            .append(esc(r.id()))
            .append("\"><td>")
            .append(state(r.state()))
            .append("</td><td>")
            .append(esc(r.task()))
            .append(workflowOf.apply(r.id()).map(TaskPages::workflowLink).orElse(""))
            .append("</td><td><a class=\"id\" href=\"/ui/tasks/")
            .append(esc(query(r.id())))
            .append("\">")
            .append(esc(r.id()))
            .append("</a></td><td>")
            .append(esc(r.queue()))
            .append("</td><td>")
            .append(esc(r.worker()))
            .append("</td><td>")
            .append(r.retries())
            .append("</td><td>")
            .append(DashboardPage.clock(r.sent()))
            .append("</td><td>")
            .append(between(r.started(), r.finished()))
            .append("</td></tr>\n");
      }
      html.append("</tbody></table></div>\n");
    }
    html.append("<nav class=\"paging\" aria-label=\"Pages\">");
    if (f.offset() > 0) {
      html.append("<a rel=\"prev\" href=\"")
          .append(esc(f.at(Math.max(0, f.offset() - PAGE))))
          .append("\">← Newer</a> ");
    }
    html.append("<span>")
        .append(rows.isEmpty() ? 0 : f.offset() + 1)
        .append("–")
        .append(f.offset() + rows.size())
        .append("</span>");
    if (more) {
      html.append(" <a rel=\"next\" href=\"")
          .append(esc(f.at(f.offset() + PAGE)))
          .append("\">Older →</a>");
    }
    html.append("</nav>\n</section>\n");
    return html.toString();
  }

  /** The time range as a select; a range typed into the address is kept as its own option. */
  private static String timeRange(String since) {
    StringBuilder html =
        new StringBuilder(
            "<label>Sent <select name=\"since\"><option value=\"\">any time</option>");
    if (!since.isEmpty() && RANGES.stream().noneMatch(r -> r.since().equals(since))) {
      html.append("<option value=\"")
          .append(esc(since))
          .append("\" selected>since ")
          .append(esc(since))
          .append("</option>");
    }
    for (Range range : RANGES) {
      html.append("<option value=\"")
          .append(range.since())
          .append('"')
          .append(range.since().equals(since) ? " selected" : "")
          .append('>')
          .append(range.label())
          .append("</option>");
    }
    return html.append("</select></label>").toString();
  }

  private static String taskLink(String id) {
    return "<a class=\"id\" href=\"/ui/tasks/" + esc(query(id)) + "\">" + esc(id) + "</a>";
  }

  private static String workflowLink(String workflowId) {
    return " <a class=\"workflow-link\" href=\"/ui/workflows/"
        + esc(query(workflowId))
        + "\" title=\"its workflow\">workflow</a>";
  }

  private static String input(String label, String name, String value, String placeholder) {
    return "<label>"
        + label
        + " <input name=\""
        + name
        + "\" value=\""
        + esc(value)
        + "\" placeholder=\""
        + esc(placeholder)
        + "\"></label>";
  }

  /**
   * A task's page: its fields, result or error with traceback, timeline with durations, and the
   * actions (revoke unless it finished; the same request as curl).
   */
  static String detail(TaskRecord r, String baseUrl, String workflowId, List<TaskRecord> children) {
    StringBuilder html = new StringBuilder();
    boolean done = r.state().isFinal();
    html.append("<section id=\"task-live\" data-live")
        .append(done ? " data-final" : "")
        .append(" aria-live=\"polite\">\n<dl class=\"fields\">")
        .append(field("State", state(r.state())))
        .append(field("Task", esc(r.task())))
        .append(field("Id", "<code>" + esc(r.id()) + "</code>"))
        .append(field("Queue", esc(r.queue())))
        .append(field("Worker", esc(r.worker())))
        .append(field("Retries", String.valueOf(r.retries())));
    if (r.parentId() != null && !r.parentId().equals(r.id())) {
      html.append(field("Parent", taskLink(r.parentId())));
    }
    if (r.rootId() != null && !r.rootId().equals(r.id()) && !r.rootId().equals(r.parentId())) {
      html.append(field("Root", taskLink(r.rootId())));
    }
    if (!children.isEmpty()) {
      StringBuilder list = new StringBuilder("<ul class=\"children\">");
      for (TaskRecord child : children) {
        list.append("<li>")
            .append(state(child.state()))
            .append(' ')
            .append(Html.link("/ui/tasks/" + query(child.id()), child.task()))
            .append(" <code class=\"id\">")
            .append(esc(child.id()))
            .append("</code></li>");
      }
      html.append(field("Children", list.append("</ul>").toString()));
    }
    if (workflowId != null) {
      html.append(
          field(
              "Workflow",
              Html.link("/ui/workflows/" + query(workflowId), "its tree")
                  + " <code>"
                  + esc(workflowId)
                  + "</code>"));
    }
    if (r.progress() != null && !r.progress().isNull()) {
      long doneCount = r.progress().path("done").asLong(0);
      long total = r.progress().path("total").asLong(0);
      html.append(
          field(
              "Progress",
              total > 0
                  ? "<progress max=\""
                      + total
                      + "\" value=\""
                      + doneCount
                      + "\"></progress> "
                      + doneCount
                      + " of "
                      + total
                  : esc(r.progress().toString())));
    }
    html.append("</dl>\n");
    arguments(html, r.arguments());
    if (r.result() != null && !r.result().isNull()) {
      html.append("<h2>Result</h2>\n<pre class=\"result\">")
          .append(esc(r.result().toPrettyString()))
          .append("</pre>\n");
    }
    TaskError error = r.error();
    if (error != null) {
      html.append("<h2>Error</h2>\n<p class=\"error-type\"><strong>")
          .append(esc(error.type()))
          .append("</strong>: ")
          .append(esc(error.message()))
          .append("</p>\n");
      if (error.traceback() != null && !error.traceback().isBlank()) {
        html.append("<h3>Traceback</h3>\n<pre class=\"traceback\">")
            .append(esc(error.traceback()))
            .append("</pre>\n");
      }
    }
    html.append("<h2>Timeline</h2>\n<table class=\"timeline\"><thead><tr><th>Event</th><th>At</th>")
        .append("<th>After the one before</th></tr></thead><tbody>")
        .append(step("sent", r.sent(), null))
        .append(step("received", r.received(), r.sent()))
        .append(step("started", r.started(), r.received()))
        .append(step("finished", r.finished(), r.started()))
        .append("</tbody></table>\n</section>\n");
    html.append("<h2>Actions</h2>\n");
    if (!done) {
      html.append("<form method=\"post\" action=\"/ui/tasks/")
          .append(esc(query(r.id())))
          .append("/revoke\" data-confirm=\"Revoke this task?\" class=\"actions\">")
          .append("<label><input type=\"checkbox\" name=\"terminate\" value=\"true\">")
          .append(" terminate it if it runs</label> <button>Revoke</button></form>\n");
    } else {
      boolean whole = r.arguments() != null && !r.arguments().truncated();
      html.append("<form method=\"post\" action=\"/ui/tasks/")
          .append(esc(query(r.id())))
          .append("/resubmit\" data-confirm=\"Send this task again, as a new task with the same")
          .append(" arguments?\" class=\"actions\"><button class=\"resubmit\"")
          .append(whole ? "" : " disabled")
          .append('>')
          .append(r.state() == TaskState.SUCCESS ? "Run again" : "Resubmit")
          .append("</button>")
          .append(
              whole
                  ? " <span class=\"hint\">a new task: same name, arguments and queue</span>"
                  : " <span class=\"hint\">its arguments are not kept whole: submit it through"
                      + " POST /tasks</span>")
          .append("</form>\n");
    }
    String curl =
        "curl -s -H \"Authorization: Bearer $LOVAGE_API_KEY\" " + baseUrl + "/tasks/" + r.id();
    html.append("<p>The same as JSON from the REST API:</p>\n<pre class=\"curl\" id=\"curl\">")
        .append(esc(curl))
        .append("</pre>\n<button type=\"button\" data-copy=\"curl\">Copy as curl</button>\n");
    return html.toString();
  }

  /**
   * Args and kwargs as the events carried them: pretty JSON when whole, the kept start and a note
   * when they were longer than {@link TaskArguments#MAX_CHARS}.
   */
  private static void arguments(StringBuilder html, TaskArguments arguments) {
    html.append("<h2>Arguments</h2>\n");
    if (arguments == null) {
      html.append(
          "<p class=\"empty\">Not known: the events of this task did not carry them (a task"
              + " sent and run by Celery, or sent with ignore_result).</p>\n");
      return;
    }
    html.append("<dl class=\"fields arguments\">")
        .append(
            field("args", argument(arguments.argsJson(), arguments.args(), arguments.truncated())))
        .append(
            field(
                "kwargs",
                argument(arguments.kwargsJson(), arguments.kwargs(), arguments.truncated())))
        .append("</dl>\n");
    if (arguments.truncated()) {
      html.append("<p class=\"notice truncated\">Truncated: only the first ")
          .append(TaskArguments.MAX_CHARS)
          .append(
              " characters of each are kept, so this task cannot be resubmitted from here.</p>\n");
    }
  }

  /** Arguments up to this long are shown on one line, as sent; longer ones are laid out. */
  private static final int SHORT_ARGUMENTS = 80;

  private static String argument(
      String text, java.util.Optional<? extends JsonNode> whole, boolean truncated) {
    // The flag covers both texts; the one that was cut is the one at the bound.
    String shown =
        whole
            .map(node -> text.length() <= SHORT_ARGUMENTS ? text : node.toPrettyString())
            .orElse(truncated && text.length() >= TaskArguments.MAX_CHARS ? text + "…" : text);
    return "<pre class=\"args\">" + esc(shown) + "</pre>";
  }

  private static String field(String name, String valueHtml) {
    return "<dt>" + name + "</dt><dd>" + (valueHtml.isEmpty() ? "–" : valueHtml) + "</dd>";
  }

  private static String step(String name, java.time.Instant at, java.time.Instant before) {
    return "<tr><td>"
        + name
        + "</td><td>"
        + time(at)
        + "</td><td>"
        + between(before, at)
        + "</td></tr>";
  }
}
