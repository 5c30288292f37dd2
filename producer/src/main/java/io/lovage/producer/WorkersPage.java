package io.lovage.producer;

import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.link;
import static io.lovage.producer.Html.query;

import java.time.Duration;
import java.time.Instant;
import tools.jackson.databind.JsonNode;

/**
 * {@code /ui/workers}: the workers alive, from {@code GET /workers}'s answer (heartbeats, and what
 * each worker says of itself through Celery's remote control): queues, pool, running tasks,
 * processed count, heartbeat age, and a shutdown button.
 */
final class WorkersPage {
  private WorkersPage() {}

  /** Asking the workers takes a round trip through RabbitMQ: the page refreshes less often. */
  static final int REFRESH_MS = 5000;

  static String render(JsonNode list, Instant now) {
    StringBuilder html =
        new StringBuilder("<section id=\"workers-live\" data-live data-period=\"")
            .append(REFRESH_MS)
            .append("\">\n");
    JsonNode workers = list.path("workers");
    if (workers.isEmpty()) {
      return html.append(
              "<p class=\"empty\">No worker has sent a heartbeat lately.</p>\n</section>\n")
          .toString();
    }
    html.append(
        "<div class=\"scroll\"><table class=\"workers\"><thead><tr><th>Worker</th><th>Queues</th>"
            + "<th>Pool</th><th>Running</th><th>Processed</th><th>Heartbeat</th><th></th></tr>"
            + "</thead><tbody>\n");
    for (JsonNode w : workers) {
      String hostname = w.path("hostname").asString("");
      html.append("<tr><td><a href=\"/ui/tasks?worker=")
          .append(esc(query(hostname)))
          .append("\">")
          .append(esc(hostname))
          .append("</a><br><small>")
          .append(esc(w.path("software").asString("")))
          .append(w.path("answered").asBoolean(false) ? "" : ", did not answer")
          .append("</small></td><td>");
      html.append("<ul class=\"consumed\">");
      w.path("queues").forEach(q -> html.append(consumed(hostname, q.asString(""))));
      html.append("</ul>").append(addConsumer(hostname)).append("</td><td>");
      JsonNode pool = w.path("pool");
      if (pool.isObject()) {
        html.append("up to ")
            .append(esc(pool.path("maxConcurrency").asString("?")))
            .append(" at once");
        if (pool.path("processes").asInt(0) > 0) {
          html.append(", ").append(pool.path("processes").asInt()).append(" process(es)");
        }
      }
      html.append("</td><td>").append(w.path("active").asInt(0));
      w.path("tasks")
          .forEach(
              t ->
                  html.append("<br><a href=\"/ui/tasks/")
                      .append(esc(query(t.path("id").asString(""))))
                      .append("\">")
                      .append(esc(t.path("name").asString("")))
                      .append("</a>"));
      html.append("</td><td>").append(w.path("processed").asLong(0)).append("</td><td>");
      String lastSeen = w.path("lastSeen").asString(null);
      html.append(
          lastSeen == null
              ? "–"
              : Duration.between(Instant.parse(lastSeen), now).toSeconds() + " s ago");
      html.append("</td><td><form method=\"post\" action=\"/ui/workers/")
          .append(esc(query(hostname)))
          .append(
              "/shutdown\" data-confirm=\"Stop this worker? It finishes its running tasks"
                  + " first.\"><button class=\"delete\">Shut down</button></form></td></tr>\n");
    }
    return html.append("</tbody></table></div>\n</section>\n").toString();
  }

  /** A queue the worker consumes, with a button to stop consuming it (Celery's cancel_consumer). */
  private static String consumed(String hostname, String queue) {
    return "<li data-queue=\""
        + esc(queue)
        + "\">"
        + link("/ui/tasks?queue=" + query(queue), queue)
        + " <form method=\"post\" action=\"/ui/workers/"
        + esc(query(hostname))
        + "/queues\" data-confirm=\""
        + esc("Stop consuming " + queue + " on " + hostname + "? Its running tasks go on.")
        + "\"><input type=\"hidden\" name=\"queue\" value=\""
        + esc(queue)
        + "\"><input type=\"hidden\" name=\"consume\" value=\"false\"><button class=\"delete"
        + " small\" aria-label=\""
        + esc("Stop consuming " + queue)
        + "\">Cancel consumer</button></form></li>";
  }

  /** A queue to consume as well (Celery's add_consumer). */
  private static String addConsumer(String hostname) {
    return "<form method=\"post\" action=\"/ui/workers/"
        + esc(query(hostname))
        + "/queues\" class=\"add-consumer\" data-confirm=\""
        + esc("Make " + hostname + " consume this queue as well?")
        + "\"><input type=\"hidden\" name=\"consume\" value=\"true\"><label>Queue <input"
        + " name=\"queue\" required size=\"12\"></label> <button>Add"
        + " consumer</button></form>";
  }
}
