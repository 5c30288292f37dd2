package io.lovage.producer;

import static io.lovage.producer.Html.esc;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Line charts as inline SVG, drawn on the server: nothing to load and no script to run (the pages'
 * CSP allows none inline), and the page's refresh replaces them as any other part. Each line has a
 * class for its colour and dash pattern (in {@code dashboard.css}) and a symbol at its end, so
 * colour is never the only signal; the SVG's title and description say what it shows, and pages put
 * the latest values beside it as text.
 */
final class Chart {
  private Chart() {}

  /** One value at one time. */
  record Point(Instant at, double value) {}

  /** One line: its name, the symbol at its end, its CSS class, its points oldest first. */
  record Line(String label, String symbol, String cssClass, List<Point> points) {}

  /** The chart's size in SVG units; {@code compact} leaves out the time axis, for a sparkline. */
  record Size(int width, int height, boolean compact) {
    static final Size WIDE = new Size(640, 180, false);
    static final Size SPARKLINE = new Size(240, 44, true);
  }

  private static final int LEFT = 40;
  private static final int TOP = 8;
  private static final int RIGHT = 16;

  /**
   * An SVG of the lines over {@code from} to {@code to}, the value axis from 0 to a round number
   * above the highest value; "No data yet" when no line has a point.
   */
  static String render(
      String id,
      String title,
      String description,
      List<Line> lines,
      Instant from,
      Instant to,
      Size size) {
    int bottom = size.compact() ? 4 : 20;
    double plotWidth = size.width() - LEFT - RIGHT;
    double plotHeight = size.height() - TOP - bottom;
    double max =
        niceCeiling(
            lines.stream()
                .flatMap(l -> l.points().stream())
                .mapToDouble(Point::value)
                .max()
                .orElse(0));
    StringBuilder svg = new StringBuilder(1024);
    svg.append("<svg class=\"chart\" id=\"")
        .append(esc(id))
        .append("\" viewBox=\"0 0 ")
        .append(size.width())
        .append(' ')
        .append(size.height())
        .append("\" role=\"img\" aria-labelledby=\"")
        .append(esc(id))
        .append("-title ")
        .append(esc(id))
        .append("-desc\"><title id=\"")
        .append(esc(id))
        .append("-title\">")
        .append(esc(title))
        .append("</title><desc id=\"")
        .append(esc(id))
        .append("-desc\">")
        .append(esc(description))
        .append("</desc>");
    // Axes: the value scale at the left, the time span below.
    double baseline = TOP + plotHeight;
    svg.append("<path class=\"axis\" d=\"M")
        .append(LEFT)
        .append(' ')
        .append(TOP)
        .append("V")
        .append(num(baseline))
        .append("H")
        .append(size.width() - RIGHT)
        .append("\"/>");
    svg.append("<text class=\"tick\" x=\"")
        .append(LEFT - 4)
        .append("\" y=\"")
        .append(TOP + 8)
        .append("\" text-anchor=\"end\">")
        .append(label(max))
        .append("</text><text class=\"tick\" x=\"")
        .append(LEFT - 4)
        .append("\" y=\"")
        .append(num(baseline))
        .append("\" text-anchor=\"end\">0</text>");
    if (!size.compact()) {
      long minutes = Duration.between(from, to).toMinutes();
      svg.append("<text class=\"tick\" x=\"")
          .append(LEFT)
          .append("\" y=\"")
          .append(size.height() - 4)
          .append("\">")
          .append(minutes)
          .append(" min ago</text><text class=\"tick\" x=\"")
          .append(size.width() - RIGHT)
          .append("\" y=\"")
          .append(size.height() - 4)
          .append("\" text-anchor=\"end\">now</text>");
    }
    boolean any = false;
    double span = Math.max(1, Duration.between(from, to).toMillis());
    for (Line line : lines) {
      if (line.points().isEmpty()) {
        continue;
      }
      any = true;
      StringBuilder points = new StringBuilder();
      // The symbol goes at the line's highest point, where the line shows; none on a flat zero.
      Point peak = line.points().getFirst();
      for (Point p : line.points()) {
        points.append(num(x(p, from, span, plotWidth))).append(',');
        points.append(num(y(p, max, baseline, plotHeight))).append(' ');
        if (p.value() > peak.value()) {
          peak = p;
        }
      }
      svg.append("<polyline class=\"line ")
          .append(esc(line.cssClass()))
          .append("\" points=\"")
          .append(points.toString().strip())
          .append("\"><title>")
          .append(esc(line.label()))
          .append("</title></polyline>");
      if (peak.value() > 0) {
        svg.append("<text class=\"marker ")
            .append(esc(line.cssClass()))
            .append("\" x=\"")
            .append(num(x(peak, from, span, plotWidth) + 3))
            .append("\" y=\"")
            .append(num(Math.max(TOP + 8, y(peak, max, baseline, plotHeight))))
            .append("\" aria-hidden=\"true\">")
            .append(esc(line.symbol()))
            .append("</text>");
      }
    }
    if (!any) {
      svg.append("<text class=\"no-data\" x=\"")
          .append(num(LEFT + plotWidth / 2))
          .append("\" y=\"")
          .append(num(TOP + plotHeight / 2 + 4))
          .append("\" text-anchor=\"middle\">No data yet</text>");
    }
    return svg.append("</svg>").toString();
  }

  /** The legend: each line's symbol, a sample of its stroke, and its name. */
  static String legend(List<Line> lines) {
    StringBuilder html = new StringBuilder("<ul class=\"legend\">");
    for (Line line : lines) {
      html.append("<li><span class=\"swatch ")
          .append(esc(line.cssClass()))
          .append("\" aria-hidden=\"true\"></span><span aria-hidden=\"true\">")
          .append(esc(line.symbol()))
          .append("</span> ")
          .append(esc(line.label()))
          .append("</li>");
    }
    return html.append("</ul>").toString();
  }

  /** The smallest of 1, 2, 2.5, 5 times a power of ten that is at least {@code value}; 1 for 0. */
  static double niceCeiling(double value) {
    if (!(value > 0)) {
      return 1;
    }
    double power = Math.pow(10, Math.floor(Math.log10(value)));
    for (double step : new double[] {1, 2, 2.5, 5, 10}) {
      if (step * power >= value * (1 - 1e-9)) {
        return step * power;
      }
    }
    return 10 * power;
  }

  /** A value as the charts and their tables write it: no decimals past the first. */
  static String label(double value) {
    return value == Math.rint(value)
        ? String.valueOf((long) value)
        : String.format(Locale.ROOT, "%.1f", value);
  }

  private static double x(Point p, Instant from, double span, double plotWidth) {
    return LEFT
        + Math.clamp(Duration.between(from, p.at()).toMillis() / span, 0.0, 1.0) * plotWidth;
  }

  private static double y(Point p, double max, double baseline, double plotHeight) {
    return baseline - p.value() / max * plotHeight;
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }
}
