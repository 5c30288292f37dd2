package io.lovage.producer;

import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.link;
import static io.lovage.producer.Html.query;

import io.lovage.deadletter.DeadLetter;
import io.lovage.deadletter.DeadLetterStore;
import java.util.List;

/**
 * {@code /ui/dead-letters?queue=…}: a task queue's dead letters, oldest first, each with its
 * reason, error and body, and buttons to replay or delete it (each asks for a confirmation).
 */
final class DeadLetterPage {
  private DeadLetterPage() {}

  static final String SUFFIX = ".dead-letter";

  /**
   * @param queues the task queues that have a dead-letter queue, for the picker (may be empty when
   *     the management API does not answer)
   * @param page the dead letters shown, or null when the queue has no dead-letter queue
   */
  static String render(String queue, List<String> queues, DeadLetterStore.Page page, long offset) {
    return render(queue, queues, page, offset, new DeadLetterFilter("", ""), null);
  }

  /**
   * @param filter the task and reason the list is narrowed to (empty: all)
   * @param matches every dead letter the filter matches, for the bulk actions (null: unknown)
   */
  static String render(
      String queue,
      List<String> queues,
      DeadLetterStore.Page page,
      long offset,
      DeadLetterFilter filter,
      DeadLetterController.Matches matches) {
    StringBuilder html = new StringBuilder();
    html.append("<form method=\"get\" action=\"/ui/dead-letters\" class=\"filters\">")
        .append("<label>Queue <input name=\"queue\" value=\"")
        .append(esc(queue))
        .append("\" list=\"dead-letter-queues\"></label><datalist id=\"dead-letter-queues\">");
    queues.forEach(q -> html.append("<option value=\"").append(esc(q)).append("\">"));
    html.append("</datalist><label>Task <input name=\"task\" value=\"")
        .append(esc(filter.task()))
        .append("\" placeholder=\"demo.fail\"></label><label>Reason contains <input")
        .append(" name=\"reason\" value=\"")
        .append(esc(filter.reason()))
        .append("\"></label> <button>Show</button></form>\n");
    if (!queues.isEmpty()) {
      html.append("<p class=\"queues\">Queues with dead letters: ");
      for (String q : queues) {
        html.append("<a href=\"/ui/dead-letters?queue=")
            .append(esc(query(q)))
            .append("\"")
            .append(q.equals(queue) ? " aria-current=\"page\"" : "")
            .append(">")
            .append(esc(q))
            .append("</a> ");
      }
      html.append("</p>\n");
    }
    html.append("<section id=\"dead-letters-live\" data-live aria-live=\"polite\">\n");
    if (page == null) {
      html.append("<p class=\"empty\">Queue <code>")
          .append(esc(queue))
          .append("</code> has no dead-letter queue.</p>\n</section>\n");
      return html.toString();
    }
    if (matches != null && !matches.deadLetters().isEmpty()) {
      html.append(bulk(queue, filter, matches));
    }
    if (page.deadLetters().isEmpty()) {
      html.append("<p class=\"empty\">No dead letters in <code>")
          .append(esc(queue))
          .append("</code>.</p>\n");
    }
    for (DeadLetter d : page.deadLetters()) {
      html.append("<article class=\"dead-letter\" data-dead-letter-id=\"")
          .append(esc(d.id()))
          .append("\">\n<h2>")
          .append(esc(d.task()))
          .append(" <code>")
          .append(esc(d.id()))
          .append("</code></h2>\n<dl class=\"fields\"><dt>Reason</dt><dd class=\"reason\">")
          .append(esc(d.reason()))
          .append("</dd><dt>Task</dt><dd>");
      if (d.taskId() != null) {
        html.append(link("/ui/tasks/" + query(d.taskId()), d.taskId()));
      }
      html.append("</dd><dt>Attempts</dt><dd>")
          .append(d.attempts())
          .append("</dd><dt>Failed at</dt><dd>")
          .append(esc(d.failedAt()))
          .append("</dd>");
      if (d.exceptionType() != null) {
        html.append("<dt>Error</dt><dd><strong>")
            .append(esc(d.exceptionType()))
            .append("</strong>: ")
            .append(esc(d.exceptionMessage()))
            .append("</dd>");
      }
      html.append("</dl>\n");
      if (d.traceback() != null && !d.traceback().isBlank()) {
        html.append("<details><summary>Traceback</summary><pre class=\"traceback\">")
            .append(esc(d.traceback()))
            .append("</pre></details>\n");
      }
      html.append("<details><summary>Body</summary><pre>")
          .append(esc(d.body() == null ? "" : d.body().toPrettyString()))
          .append("</pre></details>\n<div class=\"actions\">")
          .append(action(d, queue, "replay", "Replay", "Send this task back to its queue?"))
          .append(action(d, queue, "delete", "Delete", "Delete this dead letter for good?"))
          .append("</div>\n</article>\n");
    }
    if (page.next() != null && filter.isEmpty()) {
      html.append("<nav class=\"paging\"><a rel=\"next\" href=\"/ui/dead-letters?queue=")
          .append(esc(query(queue)))
          .append("&amp;offset=")
          .append(page.next())
          .append("\">More →</a></nav>\n");
    } else if (offset > 0) {
      html.append("<nav class=\"paging\"><a href=\"/ui/dead-letters?queue=")
          .append(esc(query(queue)))
          .append("\">← First</a></nav>\n");
    }
    return html.append("</section>\n").toString();
  }

  /** Replay all and delete all that match, each confirmation saying how many it touches. */
  private static String bulk(
      String queue, DeadLetterFilter filter, DeadLetterController.Matches matches) {
    int n = matches.deadLetters().size();
    String which =
        n
            + (n == 1 ? " dead letter" : " dead letters")
            + (filter.isEmpty() ? "" : " that match")
            + (matches.more() ? " (the oldest " + n + "; more match)" : "");
    StringBuilder html =
        new StringBuilder("<div class=\"bulk actions\" data-matched=\"")
            .append(n)
            .append("\"><p>")
            .append(
                esc(which.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + which.substring(1)))
            .append(filter.isEmpty() ? " in this queue." : ".")
            .append("</p>");
    for (String[] a :
        new String[][] {
          {"replay-all", "Replay all " + n, "Replay the " + which + "?", "replay"},
          {"delete-all", "Delete all " + n, "Delete the " + which + " for good?", "delete"}
        }) {
      html.append("<form method=\"post\" action=\"/ui/dead-letters/")
          .append(a[0])
          .append("\" data-confirm=\"")
          .append(esc(a[2]))
          .append("\"><input type=\"hidden\" name=\"queue\" value=\"")
          .append(esc(queue))
          .append("\"><input type=\"hidden\" name=\"task\" value=\"")
          .append(esc(filter.task()))
          .append("\"><input type=\"hidden\" name=\"reason\" value=\"")
          .append(esc(filter.reason()))
          .append("\"><button class=\"")
          .append(a[3])
          .append("\">")
          .append(esc(a[1]))
          .append("</button></form>");
    }
    return html.append("</div>\n").toString();
  }

  private static String action(
      DeadLetter d, String queue, String action, String label, String confirm) {
    return "<form method=\"post\" action=\"/ui/dead-letters/"
        + esc(query(d.id()))
        + "/"
        + action
        + "\" data-confirm=\""
        + esc(confirm)
        + "\"><input type=\"hidden\" name=\"queue\" value=\""
        + esc(queue)
        + "\"><button class=\""
        + action
        + "\">"
        + label
        + "</button></form>";
  }
}
