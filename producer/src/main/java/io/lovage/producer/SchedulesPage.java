package io.lovage.producer;

import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.link;
import static io.lovage.producer.Html.query;

import io.lovage.TaskState;
import java.util.Locale;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * {@code /ui/schedules}: the periodic tasks, from {@code GET /schedules}'s answer: name, task,
 * cadence, next run and the latest runs with their state; run now, pause or resume, and delete,
 * each after a confirmation.
 */
final class SchedulesPage {
  private SchedulesPage() {}

  /** The latest runs shown per schedule. */
  static final int RUNS = 5;

  /**
   * @param list {@code GET /schedules}'s answer
   * @param runs each schedule's {@code GET /schedules/{name}/runs} answer, by name
   */
  static String render(JsonNode list, Map<String, JsonNode> runs) {
    StringBuilder html = new StringBuilder("<section id=\"schedules-live\" data-live>\n");
    html.append("<p class=\"live-status\">")
        .append(
            list.path("leader").asBoolean(false)
                ? "This replica leads the scheduler: it sends the runs."
                : "Another replica leads the scheduler; this one shows the same schedules.")
        .append("</p>\n");
    JsonNode schedules = list.path("schedules");
    if (schedules.isEmpty()) {
      return html.append(
              "<p class=\"empty\">No periodic task: create one with <code>POST /schedules</code>"
                  + " (see the REST API).</p>\n</section>\n")
          .toString();
    }
    html.append(
        "<div class=\"scroll\"><table class=\"schedules\"><thead><tr><th>Name</th><th>Task</th>"
            + "<th>Cadence</th><th>Next run</th><th>Latest runs</th><th></th></tr></thead>"
            + "<tbody>\n");
    for (JsonNode s : schedules) {
      String name = s.path("name").asString("");
      boolean enabled = s.path("enabled").asBoolean(true);
      html.append("<tr data-schedule=\"")
          .append(esc(name))
          .append("\"><td>")
          .append(esc(name))
          .append(enabled ? "" : "<br><small class=\"paused\">paused: no run is sent</small>")
          .append("</td><td>");
      if (s.hasNonNull("task")) {
        html.append(
            link("/ui/tasks?task=" + query(s.get("task").asString()), s.get("task").asString()));
      } else {
        html.append("a workflow");
      }
      html.append("<br><small>queue ")
          .append(esc(s.path("queue").asString("")))
          .append("</small></td><td>")
          .append(esc(cadence(s)))
          .append("</td><td>")
          .append(DashboardPage.time(instant(s.path("nextRun").asString(null))))
          .append("</td><td>");
      JsonNode latest = runs.getOrDefault(name, s).path("runs");
      if (latest.isEmpty()) {
        html.append("<span class=\"empty\">none yet</span>");
      }
      int n = 0;
      for (JsonNode run : latest) {
        if (n++ == RUNS) {
          break;
        }
        String id = run.path("id").asString("");
        html.append("<a href=\"/ui/tasks/")
            .append(esc(query(id)))
            .append("\">")
            .append(state(run.path("state").asString("")))
            .append("</a> ")
            .append(DashboardPage.clock(instant(run.path("scheduled").asString(null))))
            .append("<br>");
      }
      html.append("</td><td><div class=\"actions\">")
          .append(action(name, "run", "Run now", "Send one run of '" + name + "' now?", ""))
          .append(
              enabled
                  ? action(
                      name,
                      "pause",
                      "Pause",
                      "Pause '" + name + "'? No run is sent until it is resumed.",
                      "")
                  : action(name, "resume", "Resume", "Resume '" + name + "'?", ""))
          .append(
              action(
                  name,
                  "delete",
                  "Delete",
                  "Delete the schedule '" + name + "' for good?",
                  "delete"))
          .append("</div></td></tr>\n");
    }
    return html.append("</tbody></table></div>\n</section>\n").toString();
  }

  /** How often a schedule runs, in words: {@code every 30 s}, {@code cron 0 * * * * (UTC)}. */
  static String cadence(JsonNode s) {
    if (s.hasNonNull("every")) {
      long seconds = s.get("every").asLong();
      return seconds % 3600 == 0
          ? "every " + seconds / 3600 + " h"
          : seconds % 60 == 0 ? "every " + seconds / 60 + " min" : "every " + seconds + " s";
    }
    if (s.hasNonNull("cron")) {
      return "cron " + s.get("cron").asString() + " (" + s.path("timezone").asString("UTC") + ")";
    }
    if (s.hasNonNull("at")) {
      return "once at " + s.get("at").asString();
    }
    return "";
  }

  private static String state(String name) {
    try {
      return DashboardPage.state(TaskState.valueOf(name.toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      return DashboardPage.state(null);
    }
  }

  private static java.time.Instant instant(String text) {
    try {
      return text == null ? null : java.time.Instant.parse(text);
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }

  private static String action(
      String name, String action, String label, String confirm, String cssClass) {
    return "<form method=\"post\" action=\"/ui/schedules/"
        + esc(query(name))
        + "/"
        + action
        + "\" data-confirm=\""
        + esc(confirm)
        + "\"><button class=\""
        + (cssClass.isEmpty() ? action : cssClass)
        + "\">"
        + label
        + "</button></form>";
  }
}
