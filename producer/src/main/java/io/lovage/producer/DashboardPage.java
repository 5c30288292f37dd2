package io.lovage.producer;

import static io.lovage.producer.Html.esc;

import io.lovage.TaskState;
import java.time.Duration;
import java.time.Instant;

/**
 * The frame every dashboard page shares: head, navigation, main; and the small pieces pages repeat
 * (a state shown as a symbol and its name, never colour alone; times and durations).
 */
final class DashboardPage {
  private DashboardPage() {}

  /** The navigation's entries: path and label. */
  private static final String[][] NAV = {
    {"/ui", "Overview"},
    {"/ui/tasks", "Tasks"},
    {"/ui/workers", "Workers"},
    {"/ui/queues", "Queues"},
    {"/ui/dead-letters", "Dead letters"},
    {"/ui/schedules", "Schedules"},
    {"/ui/limits", "Limits"}
  };

  /**
   * A whole page. {@code body} is HTML already escaped; {@code current} is the navigation entry to
   * mark. The scripts and styles come from the jar ({@code /ui/assets/}), nothing from elsewhere.
   */
  static String render(String title, String current, String body, boolean signedIn) {
    StringBuilder html = new StringBuilder(4096 + body.length());
    html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>")
        .append(esc(title))
        .append(" · Lovage</title>\n")
        .append("<link rel=\"stylesheet\" href=\"/ui/assets/dashboard.css\">\n")
        .append("<script src=\"/ui/assets/dashboard.js\" defer></script>\n")
        .append("</head>\n<body>\n")
        .append("<a class=\"skip\" href=\"#main\">Skip to content</a>\n")
        .append("<header><nav aria-label=\"Dashboard\"><span class=\"brand\">Lovage</span><ul>");
    for (String[] entry : NAV) {
      html.append("<li><a href=\"")
          .append(entry[0])
          .append('"')
          .append(entry[0].equals(current) ? " aria-current=\"page\"" : "")
          .append('>')
          .append(entry[1])
          .append("</a></li>");
    }
    html.append("</ul>");
    if (signedIn) {
      html.append(
          "<form method=\"post\" action=\"/ui/logout\" class=\"logout\"><button>Sign"
              + " out</button></form>");
    }
    html.append("</nav></header>\n<main id=\"main\" tabindex=\"-1\">\n<h1>")
        .append(esc(title))
        .append("</h1>\n")
        .append(body)
        .append("</main>\n</body>\n</html>\n");
    return html.toString();
  }

  /** A state as a symbol and its name, with a class for its colour: readable without colour. */
  static String state(TaskState state) {
    String name = state == null ? "UNKNOWN" : state.name();
    return "<span class=\"state state-"
        + name.toLowerCase(java.util.Locale.ROOT)
        + "\"><span aria-hidden=\"true\">"
        + symbol(state)
        + "</span> "
        + name
        + "</span>";
  }

  static String symbol(TaskState state) {
    if (state == null) {
      return "?";
    }
    return switch (state) {
      case PENDING -> "◷";
      case RECEIVED -> "↓";
      case STARTED -> "▶";
      case RETRY -> "↻";
      case SUCCESS -> "✓";
      case FAILURE -> "✗";
      case REVOKED -> "⊘";
      case REJECTED -> "⚠";
    };
  }

  private static final java.time.format.DateTimeFormatter CLOCK =
      java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS")
          .withZone(java.time.ZoneOffset.UTC);

  /** An instant as ISO-8601 in a {@code <time>}, or a dash. */
  static String time(Instant at) {
    return at == null ? "–" : "<time datetime=\"" + at + "\">" + at + "</time>";
  }

  /** An instant as its UTC time of day (the whole instant in its title), or a dash. */
  static String clock(Instant at) {
    return at == null
        ? "–"
        : "<time datetime=\"" + at + "\" title=\"" + at + "\">" + CLOCK.format(at) + "</time>";
  }

  /** How long from one instant to the next, e.g. {@code 1.204 s}; empty when one is missing. */
  static String between(Instant from, Instant to) {
    if (from == null || to == null) {
      return "";
    }
    Duration d = Duration.between(from, to);
    return d.toMillis() < 1000 ? d.toMillis() + " ms" : String.format("%.3f s", d.toMillis() / 1e3);
  }

  /** A notice (role status, so screen readers announce it) or an error (role alert). */
  static String notice(String text, boolean error) {
    return text == null
        ? ""
        : "<p class=\"notice"
            + (error ? " error\" role=\"alert\">" : "\" role=\"status\">")
            + esc(text)
            + "</p>\n";
  }
}
