package io.lovage.bench;

import io.lovage.protocol.Json;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The results of one run, three ways: a markdown table (printed, and for docs/benchmarks.md), JSON
 * with the raw numbers, and a PNG bar chart of the throughput rows.
 *
 * @param title e.g. {@code Lovage benchmarks, profile quick}
 * @param environment what the numbers depend on: cores, JVM, RabbitMQ and Celery versions, time
 */
record Report(String title, Map<String, Object> environment, List<Row> rows) {

  /** Numbers as the table shows them: rates without decimals, ratios with two. */
  static String format(double value, String unit) {
    if (unit.endsWith("/s")) {
      return String.format(Locale.ROOT, "%,.0f %s", value, unit);
    }
    return switch (unit) {
      case "×" -> String.format(Locale.ROOT, "%.2f ×", value);
      case "ms" -> String.format(Locale.ROOT, value < 10 ? "%.2f ms" : "%,.1f ms", value);
      case "s" -> String.format(Locale.ROOT, "%.2f s", value);
      case "bytes/task", "MiB" -> String.format(Locale.ROOT, "%,.0f %s", value, unit);
      default -> String.format(Locale.ROOT, "%,.2f %s", value, unit);
    };
  }

  boolean complete() {
    return rows.stream().noneMatch(Row::failed);
  }

  String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("### ").append(title).append("\n\n");
    md.append(
        environment.entrySet().stream()
            .map(e -> e.getKey() + ": " + e.getValue())
            .reduce((a, b) -> a + " · " + b)
            .orElse(""));
    md.append("\n\n| measurement | value | goal | met | how |\n|---|---:|---|---|---|\n");
    for (Row row : rows) {
      Boolean met = row.goalMet();
      md.append("| ")
          .append(cell(row.name()))
          .append(" | ")
          .append(
              row.measured()
                  ? format(row.value(), row.unit())
                  : row.skipped() ? "not measured" : "**not measured**")
          .append(" | ")
          .append(cell(row.goal().text()))
          .append(" | ")
          .append(met == null ? "" : met ? "yes" : "no")
          .append(" | ")
          .append(cell(row.failed() ? "error: " + row.error() : row.note()))
          .append(" |\n");
    }
    return md.toString();
  }

  private static String cell(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }

  String json() {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("title", title);
    root.set("environment", Json.MAPPER.valueToTree(environment));
    ArrayNode array = root.putArray("rows");
    for (Row row : rows) {
      ObjectNode node = array.addObject();
      node.put("name", row.name());
      if (row.measured()) {
        node.put("value", row.value());
      } else {
        node.putNull("value");
      }
      node.put("unit", row.unit());
      node.put("goal", row.goal().text());
      Boolean met = row.goalMet();
      if (met == null) {
        node.putNull("goalMet");
      } else {
        node.put("goalMet", met);
      }
      node.put("note", row.note());
      node.set("raw", Json.MAPPER.valueToTree(row.raw()));
      if (row.error() != null) {
        node.put("error", row.error());
      }
    }
    return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
  }

  /** Horizontal bars, one per throughput row, each scaled to the largest. */
  BufferedImage chart() {
    List<Row> bars = rows.stream().filter(Row::isThroughput).toList();
    int width = 1400;
    int labelWidth = 760;
    int barHeight = 22;
    int gap = 8;
    int top = 50;
    int height = top + bars.size() * (barHeight + gap) + 30;
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
      g.drawString(title + ": throughput (longer is better)", 12, 28);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      FontMetrics metrics = g.getFontMetrics();
      double max = bars.stream().filter(Row::measured).mapToDouble(Row::value).max().orElse(1);
      int barSpace = width - labelWidth - 150;
      for (int i = 0; i < bars.size(); i++) {
        Row row = bars.get(i);
        int y = top + i * (barHeight + gap);
        g.setColor(Color.DARK_GRAY);
        g.drawString(
            fit(row.name(), metrics, labelWidth - 20),
            12,
            y + barHeight / 2 + metrics.getAscent() / 2 - 2);
        if (!row.measured()) {
          g.setColor(row.skipped() ? Color.GRAY : Color.RED);
          g.drawString(
              row.skipped() ? "not measured here" : "not measured",
              labelWidth,
              y + barHeight / 2 + metrics.getAscent() / 2 - 2);
          continue;
        }
        int length = (int) Math.max(1, Math.round(row.value() / max * barSpace));
        g.setColor(barColor(row.name()));
        g.fillRect(labelWidth, y, length, barHeight);
        g.setColor(Color.BLACK);
        g.drawString(
            format(row.value(), row.unit()),
            labelWidth + length + 8,
            y + barHeight / 2 + metrics.getAscent() / 2 - 2);
      }
    } finally {
      g.dispose();
    }
    return image;
  }

  private static Color barColor(String name) {
    if (name.contains("Celery")) {
      return new Color(0x4C9A2A);
    }
    if (name.contains("PerfTest")) {
      return new Color(0x888888);
    }
    if (name.contains("REST")) {
      return new Color(0xD9822B);
    }
    return new Color(0x3B6FB6);
  }

  private static String fit(String text, FontMetrics metrics, int width) {
    if (metrics.stringWidth(text) <= width) {
      return text;
    }
    String cut = text;
    while (cut.length() > 1 && metrics.stringWidth(cut + "…") > width) {
      cut = cut.substring(0, cut.length() - 1);
    }
    return cut + "…";
  }

  /**
   * Writes {@code <name>.md}, {@code <name>.json} and {@code <name>.png} into {@code dir}. A chart
   * that cannot be drawn (no fonts on a bare machine) is reported, not fatal: the table and the
   * JSON are the results.
   */
  void write(Path dir, String name) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve(name + ".md"), markdown());
    Files.writeString(dir.resolve(name + ".json"), json());
    try {
      ImageIO.write(chart(), "png", dir.resolve(name + ".png").toFile());
    } catch (RuntimeException | Error e) {
      System.out.println(
          "warning: no chart drawn (" + e + "); install fontconfig and fonts-dejavu-core");
    }
  }
}
