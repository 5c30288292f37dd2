package io.lovage.producer;

import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.query;

import io.lovage.TaskState;
import tools.jackson.databind.JsonNode;

/**
 * A workflow's page ({@code /ui/workflows/{id}}): its tree of chains, groups and chords, each part
 * and each task with its state (symbol and name), each task a link to its page. It renders what
 * {@code GET /workflows/{id}} answers ({@link WorkflowReport}), so the two never disagree.
 */
final class WorkflowPage {
  private WorkflowPage() {}

  /** The page's body from the workflow's report; the tree refreshes until the workflow is over. */
  static String render(JsonNode report) {
    TaskState state = state(report);
    StringBuilder html = new StringBuilder();
    html.append("<section id=\"workflow-live\" data-live")
        .append(state.isFinal() ? " data-final" : "")
        .append(" aria-live=\"polite\">\n<dl class=\"fields\">")
        .append("<dt>State</dt><dd>")
        .append(DashboardPage.state(state))
        .append("</dd><dt>Type</dt><dd>")
        .append(esc(report.path("type").asString()))
        .append("</dd><dt>Id</dt><dd><code>")
        .append(esc(report.path("id").asString()))
        .append("</code></dd>");
    JsonNode error = report.path("error");
    if (error.isObject()) {
      String failed = error.path("taskId").asString("");
      html.append("<dt>Failed at</dt><dd>")
          .append(Html.link("/ui/tasks/" + query(failed), failed))
          .append(": <strong>")
          .append(esc(error.path("type").asString("")))
          .append("</strong> ")
          .append(esc(error.path("message").asString("")))
          .append("</dd>");
    }
    html.append("</dl>\n<h2>Tree</h2>\n<ul class=\"workflow\">");
    if (report.path("type").asString("").equals("task")) {
      report.path("tasks").values().forEach(task -> part(html, task));
    } else {
      part(html, report);
    }
    html.append("</ul>\n");
    JsonNode result = report.path("result");
    if (state == TaskState.SUCCESS && !result.isMissingNode()) {
      html.append("<h2>Result</h2>\n<pre class=\"result\">")
          .append(esc(result.toPrettyString()))
          .append("</pre>\n");
    }
    return html.append("</section>\n").toString();
  }

  /** One part as a list item: a task, or a chain (ordered), group or chord with its parts. */
  private static void part(StringBuilder html, JsonNode part) {
    String type = part.path("type").asString(null);
    if (type == null || type.equals("task")) {
      String id = part.path("id").asString("");
      html.append("<li class=\"workflow-task\" data-task-id=\"")
          .append(esc(id))
          .append("\">")
          .append(DashboardPage.state(state(part)))
          .append(' ')
          .append(Html.link("/ui/tasks/" + query(id), part.path("task").asString("")))
          .append(" <code class=\"id\">")
          .append(esc(id))
          .append("</code></li>");
      return;
    }
    html.append("<li class=\"workflow-part\"><span class=\"part-type\">")
        .append(esc(type))
        .append("</span> ")
        .append(DashboardPage.state(state(part)));
    if (type.equals("chord")) {
      html.append("<div class=\"part-label\">header</div><ul>");
      part.path("header").values().forEach(p -> part(html, p));
      html.append("</ul><div class=\"part-label\">body</div><ul>");
      part(html, part.path("body"));
      html.append("</ul>");
    } else {
      String list = type.equals("chain") ? "ol" : "ul";
      html.append('<').append(list).append('>');
      part.path("tasks").values().forEach(p -> part(html, p));
      html.append("</").append(list).append('>');
    }
    html.append("</li>");
  }

  private static TaskState state(JsonNode part) {
    try {
      return TaskState.valueOf(part.path("state").asString("PENDING"));
    } catch (IllegalArgumentException e) {
      return TaskState.PENDING;
    }
  }
}
