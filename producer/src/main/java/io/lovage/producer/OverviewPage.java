package io.lovage.producer;

import static io.lovage.producer.DashboardPage.state;
import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.link;
import static io.lovage.producer.Html.query;

import io.lovage.TaskState;
import io.lovage.result.WorkerDirectory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** {@code /ui}: tasks by state, the queues with depth, consumers and rates, the workers alive. */
final class OverviewPage {
  private OverviewPage() {}

  /**
   * @param queues null with {@code queuesTrouble} saying why when the management API did not answer
   * @param managementPage the management UI's page of a queue
   */
  static String render(
      Map<TaskState, Long> counts,
      List<RabbitManagement.QueueStats> queues,
      String queuesTrouble,
      Function<String, String> managementPage,
      List<WorkerDirectory.WorkerInfo> workers,
      Instant now) {
    StringBuilder html = new StringBuilder("<section id=\"overview-live\" data-live>\n");
    html.append("<h2>Tasks by state</h2>\n<ul class=\"counts\">");
    for (TaskState s : TaskState.values()) {
      html.append("<li><a href=\"/ui/tasks?state=")
          .append(s.name())
          .append("\">")
          .append(state(s))
          .append(" <strong class=\"count\">")
          .append(counts.getOrDefault(s, 0L))
          .append("</strong></a></li>");
    }
    html.append("</ul>\n<h2>Queues</h2>\n");
    queues(html, queues, queuesTrouble, managementPage);
    html.append("<h2>Workers alive</h2>\n");
    if (workers.isEmpty()) {
      html.append("<p class=\"empty\">No worker has sent a heartbeat lately.</p>\n");
    } else {
      html.append(
          "<div class=\"scroll\"><table class=\"workers\"><thead><tr><th>Worker</th>"
              + "<th>Software</th><th>Active</th><th>Processed</th><th>Heartbeat</th></tr>"
              + "</thead><tbody>\n");
      for (WorkerDirectory.WorkerInfo w : workers) {
        html.append("<tr><td><a href=\"/ui/tasks?worker=")
            .append(esc(query(w.hostname())))
            .append("\">")
            .append(esc(w.hostname()))
            .append("</a></td><td>")
            .append(esc(w.software()))
            .append("</td><td>")
            .append(w.active())
            .append("</td><td>")
            .append(w.processed())
            .append("</td><td>")
            .append(
                w.lastSeen() == null
                    ? "–"
                    : Duration.between(w.lastSeen(), now).toSeconds() + " s ago")
            .append("</td></tr>\n");
      }
      html.append("</tbody></table></div>\n");
    }
    return html.append("</section>\n").toString();
  }

  /**
   * The task queues' table, then Lovage's own queues folded below it; or why there are none. Also
   * the body of {@code /ui/queues}.
   */
  static void queues(
      StringBuilder html,
      List<RabbitManagement.QueueStats> queues,
      String queuesTrouble,
      Function<String, String> managementPage) {
    if (queues == null) {
      html.append(DashboardPage.notice("Queues unknown: " + queuesTrouble, true));
    } else {
      var split =
          queues.stream()
              .collect(java.util.stream.Collectors.partitioningBy(OverviewPage::internal));
      queueTable(html, split.get(false), managementPage);
      if (!split.get(true).isEmpty()) {
        html.append("<details><summary>Lovage's and the workers' own queues (")
            .append(split.get(true).size())
            .append(")</summary>\n");
        queueTable(html, split.get(true), managementPage);
        html.append("</details>\n");
      }
    }
  }

  /** Lovage's own streams and queues, and each worker's remote-control and reply queues. */
  static boolean internal(RabbitManagement.QueueStats q) {
    return q.name().startsWith("lovage.") || q.name().endsWith(".pidbox");
  }

  private static void queueTable(
      StringBuilder html,
      List<RabbitManagement.QueueStats> queues,
      Function<String, String> managementPage) {
    html.append(
        "<div class=\"scroll\"><table class=\"queues\"><thead><tr><th>Queue</th><th>Type</th>"
            + "<th>Ready</th><th>Unacked</th><th>Consumers</th><th>Publish/s</th>"
            + "<th>Deliver/s</th><th>Ack/s</th><th></th></tr></thead><tbody>\n");
    for (RabbitManagement.QueueStats q : queues) {
      html.append("<tr><td>");
      if (q.name().endsWith(DeadLetterPage.SUFFIX)) {
        String taskQueue =
            q.name().substring(0, q.name().length() - DeadLetterPage.SUFFIX.length());
        html.append(link("/ui/dead-letters?queue=" + query(taskQueue), q.name()));
      } else {
        html.append(link("/ui/tasks?queue=" + query(q.name()), q.name()));
      }
      html.append("</td><td>")
          .append(esc(q.type()))
          .append("</td><td>")
          .append(q.ready())
          .append("</td><td>")
          .append(q.unacknowledged())
          .append("</td><td>")
          .append(q.consumers())
          .append("</td><td>")
          .append(rate(q.publishRate()))
          .append("</td><td>")
          .append(rate(q.deliverRate()))
          .append("</td><td>")
          .append(rate(q.ackRate()))
          .append("</td><td><a href=\"")
          .append(esc(managementPage.apply(q.name())))
          .append("\" rel=\"noopener\" target=\"_blank\">RabbitMQ ↗</a></td></tr>\n");
    }
    html.append("</tbody></table></div>\n");
  }

  private static String rate(double perSecond) {
    return String.format(java.util.Locale.ROOT, "%.1f", perSecond);
  }
}
