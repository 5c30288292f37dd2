package io.lovage.producer;

import static io.lovage.producer.DashboardPage.between;
import static io.lovage.producer.DashboardPage.state;
import static io.lovage.producer.DashboardPage.time;
import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.query;

import io.lovage.TaskError;
import io.lovage.TaskState;
import io.lovage.result.TaskRecord;
import java.util.List;
import java.util.function.Predicate;

/** The dashboard's task list ({@code /ui/tasks}) and a task's page ({@code /ui/tasks/{id}}). */
final class TaskPages {
  private TaskPages() {}

  static final int PAGE = 50;

  /**
   * The list's filters, as the query parameters of a shareable address: {@code
   * ?state=FAILURE&task=demo.add&queue=celery&worker=w1&id=4b6e&offset=50}. Empty is any.
   */
  record Filters(TaskState state, String task, String queue, String worker, String id, int offset) {
    Predicate<TaskRecord> predicate() {
      return r ->
          (state == null || r.state() == state)
              && (task.isEmpty() || task.equals(r.task()))
              && (queue.isEmpty() || queue.equals(r.queue()))
              && (worker.isEmpty() || worker.equals(r.worker()))
              && (id.isEmpty() || r.id().startsWith(id));
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
      return q.append("offset=").append(offset).toString();
    }

    private static void append(StringBuilder q, String name, String value) {
      if (!value.isEmpty()) {
        q.append(name).append('=').append(query(value)).append('&');
      }
    }
  }

  /** The list: a filter form, then the rows (which the page's script refreshes), then paging. */
  static String list(Filters f, List<TaskRecord> rows, boolean more) {
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
  static String detail(TaskRecord r, String baseUrl) {
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
    }
    String curl =
        "curl -s -H \"Authorization: Bearer $LOVAGE_API_KEY\" " + baseUrl + "/tasks/" + r.id();
    html.append("<p>The same as JSON from the REST API:</p>\n<pre class=\"curl\" id=\"curl\">")
        .append(esc(curl))
        .append("</pre>\n<button type=\"button\" data-copy=\"curl\">Copy as curl</button>\n");
    return html.toString();
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
