package io.lovage.producer;

import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.link;
import static io.lovage.producer.Html.query;

import tools.jackson.databind.JsonNode;

/**
 * {@code /ui/limits}: the tasks' fleet-wide limits, from {@code GET /limits}'s answer: rate and its
 * scope, concurrency, and their use now as RabbitMQ counts it. Read-only: limits are set with
 * {@code PUT /limits/{task}}.
 */
final class LimitsPage {
  private LimitsPage() {}

  static String render(JsonNode list) {
    StringBuilder html = new StringBuilder("<section id=\"limits-live\" data-live>\n");
    JsonNode limits = list.path("limits");
    if (limits.isEmpty()) {
      return html.append(
              "<p class=\"empty\">No task has limits set here: each worker applies the limits its"
                  + " tasks were registered with. Set one with <code>PUT /limits/{task}</code>.</p>\n"
                  + "</section>\n")
          .toString();
    }
    html.append(
        "<div class=\"scroll\"><table class=\"limits\"><thead><tr><th>Task</th><th>Rate</th>"
            + "<th>Scope</th><th>Concurrency</th><th>In use now</th><th>Set at</th></tr></thead>"
            + "<tbody>\n");
    for (JsonNode l : limits) {
      String task = l.path("task").asString("");
      html.append("<tr data-task=\"")
          .append(esc(task))
          .append("\"><td>")
          .append(link("/ui/tasks?task=" + query(task), task))
          .append("</td><td>")
          .append(l.hasNonNull("rate") ? esc(l.get("rate").asString()) : "each worker's own")
          .append("</td><td>")
          .append(esc(l.path("scope").asString("")))
          .append("</td><td>");
      JsonNode concurrency = l.path("concurrency");
      if (concurrency.isNumber() && concurrency.asInt() > 0) {
        html.append(concurrency.asInt()).append(" at once");
        if (l.hasNonNull("concurrencyKey")) {
          html.append(" per <code>")
              .append(esc(l.get("concurrencyKey").asString()))
              .append("</code>");
        }
      } else {
        html.append("–");
      }
      html.append("</td><td>");
      JsonNode use = l.path("use");
      if (use.has("error")) {
        html.append(esc(use.get("error").asString()));
      } else {
        StringBuilder text = new StringBuilder();
        if (use.has("tokensReady")) {
          text.append(use.get("tokensReady").asLong())
              .append(" token(s) ready, ")
              .append(use.path("workers").asInt())
              .append(" worker(s) sharing");
        }
        if (use.has("permitsInUse")) {
          text.append(text.isEmpty() ? "" : "; ")
              .append(use.get("permitsInUse").asLong())
              .append(" permit(s) held");
        }
        html.append(text.isEmpty() ? "–" : text);
      }
      html.append("</td><td>").append(esc(l.path("at").asString(""))).append("</td></tr>\n");
    }
    return html.append("</tbody></table></div>\n</section>\n").toString();
  }
}
