package io.lovage.producer;

import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.link;
import static io.lovage.producer.Html.query;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * The overview's live charts: task events per second by outcome, and each task queue's depth, over
 * the last minutes; each with a table of its latest values, the text a chart stands for.
 */
final class OverviewCharts {
  private OverviewCharts() {}

  /** Queues drawn at most, the deepest first. */
  static final int QUEUES = 8;

  static String render(
      List<TaskThroughput.Series> throughput, List<QueueDepths.Series> queues, Instant now) {
    Instant from = now.minus(TaskThroughput.WINDOW);
    long minutes = TaskThroughput.WINDOW.toMinutes();
    StringBuilder html = new StringBuilder("<section id=\"charts-live\" data-live>\n");
    html.append("<h2>Tasks per second</h2>\n<div class=\"chart-box\">");
    List<Chart.Line> lines =
        throughput.stream()
            .map(
                s ->
                    new Chart.Line(
                        name(s),
                        DashboardPage.symbol(s.state()),
                        "outcome-" + s.outcome().name().toLowerCase(Locale.ROOT),
                        s.perSecond()))
            .toList();
    html.append(
            Chart.render(
                "throughput-chart",
                "Task events per second by outcome, last " + minutes + " minutes",
                "One line per outcome, events per "
                    + TaskThroughput.BUCKET.toSeconds()
                    + " s divided by its length; the table beside it has the numbers.",
                lines,
                from,
                now,
                Chart.Size.WIDE))
        .append(Chart.legend(lines))
        .append("</div>\n<div class=\"scroll\"><table class=\"chart-data throughput\"><caption>")
        .append("Last ")
        .append(minutes)
        .append(" minutes</caption><thead><tr><th>Outcome</th><th>Per second (last ")
        .append(TaskThroughput.BUCKET.toSeconds())
        .append(" s)</th><th>Total</th></tr></thead><tbody>\n");
    for (TaskThroughput.Series s : throughput) {
      List<Chart.Point> points = s.perSecond();
      double latest = points.isEmpty() ? 0 : points.getLast().value();
      html.append("<tr data-outcome=\"")
          .append(esc(s.outcome().type()))
          .append("\" data-total=\"")
          .append(s.total())
          .append("\"><td>")
          .append("<span aria-hidden=\"true\">")
          .append(DashboardPage.symbol(s.state()))
          .append("</span> ")
          .append(esc(name(s)))
          .append("</td><td>")
          .append(Chart.label(latest))
          .append("</td><td>")
          .append(s.total())
          .append("</td></tr>\n");
    }
    html.append("</tbody></table></div>\n<h2>Queue depth</h2>\n");
    if (queues.isEmpty()) {
      html.append("<p class=\"empty\">No task queue sampled yet.</p>\n");
    } else {
      List<Chart.Line> legend =
          List.of(
              new Chart.Line("ready", "●", "depth-ready", List.of()),
              new Chart.Line("unacknowledged", "○", "depth-unacked", List.of()));
      html.append(Chart.legend(legend))
          .append(
              "<div class=\"scroll\"><table class=\"chart-data depths\"><thead><tr><th>Queue</th>"
                  + "<th>Last ")
          .append(minutes)
          .append(" minutes</th><th>Ready</th><th>Unacked</th></tr></thead><tbody>\n");
      int n = 0;
      for (QueueDepths.Series q : queues) {
        html.append("<tr data-queue=\"")
            .append(esc(q.queue()))
            .append("\"><td>")
            .append(link("/ui/tasks?queue=" + query(q.queue()), q.queue()))
            .append("</td><td>")
            .append(
                Chart.render(
                    "depth-chart-" + n++,
                    "Messages in queue " + q.queue() + ", last " + minutes + " minutes",
                    "Ready and unacknowledged messages; the latest are in the next columns.",
                    List.of(
                        new Chart.Line("ready", "●", "depth-ready", q.ready()),
                        new Chart.Line("unacknowledged", "○", "depth-unacked", q.unacked())),
                    from,
                    now,
                    Chart.Size.SPARKLINE))
            .append("</td><td>")
            .append(q.latest().ready())
            .append("</td><td>")
            .append(q.latest().unacknowledged())
            .append("</td></tr>\n");
      }
      html.append("</tbody></table></div>\n");
    }
    return html.append("</section>\n").toString();
  }

  /** An outcome as the chart names it: {@code task-succeeded} → {@code succeeded}. */
  private static String name(TaskThroughput.Series s) {
    return s.outcome().type().substring("task-".length());
  }
}
