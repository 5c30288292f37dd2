package io.lovage.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

class ReportTest {
  private final Row perfTest = Row.of("PerfTest", 10_000, "msg/s", Goal.NONE, "", Map.of());
  private final Row lovage =
      Row.of("Lovage", 7_000, "tasks/s", Goal.NONE, "", Map.of("tasks", 20_000));
  private final Row missing = Row.missing("Celery", "tasks/s", Goal.NONE, "worker exited");

  @Test
  void aRatioIsMissingWhenEitherSideIs() {
    Row ratio = Row.ratio("Lovage ÷ PerfTest", lovage, perfTest, Goal.atLeast(0.6, "≥ 0.6"));
    Row broken = Row.ratio("Lovage ÷ Celery", lovage, missing, Goal.atLeast(4, "≥ 4"));

    assertEquals(0.7, ratio.value(), 1e-9);
    assertTrue(ratio.goalMet());
    assertFalse(broken.measured());
    assertEquals(null, broken.goalMet());
  }

  @Test
  void writesTableJsonAndChartWithMissingRowsMarked(@TempDir Path dir) throws Exception {
    Report report = new Report("test", Map.of("cores", 2), List.of(perfTest, lovage, missing));

    report.write(dir, "latest");

    assertFalse(report.complete());
    String md = Files.readString(dir.resolve("latest.md"));
    assertTrue(md.contains("| Lovage | 7,000 tasks/s |"), md);
    assertTrue(md.contains("**not measured**"), md);
    JsonNode json = Json.MAPPER.readTree(Files.readString(dir.resolve("latest.json")));
    assertEquals(20_000, json.get("rows").get(1).get("raw").get("tasks").asInt());
    assertTrue(json.get("rows").get(2).get("value").isNull());
    assertTrue(Files.size(dir.resolve("latest.png")) > 0);
  }

  @Test
  void aRowNotMeasuredHereSaysWhyAndDoesNotFailTheRun() {
    Row cluster =
        Row.notMeasuredHere("Cluster", "tasks/s", Goal.NONE, "no /usr/sbin/rabbitmq-server");
    Row ratio = Row.ratio("Cluster ÷ single node", cluster, lovage, Goal.NONE);
    Report report = new Report("test", Map.of(), List.of(lovage, cluster, ratio));

    assertTrue(cluster.skipped());
    assertFalse(cluster.failed());
    assertTrue(ratio.skipped());
    assertEquals("not measured here: no /usr/sbin/rabbitmq-server", ratio.note());
    assertTrue(report.complete());
    assertTrue(
        report
            .markdown()
            .contains(
                "| Cluster | not measured |  |  | not measured here: no /usr/sbin/rabbitmq-server"),
        report.markdown());
    assertTrue(missing.failed());
  }

  @Test
  void formatsByUnit() {
    assertEquals("12,345 tasks/s", Report.format(12_345.4, "tasks/s"));
    assertEquals("0.79 ×", Report.format(0.7912, "×"));
    assertEquals("3.21 ms", Report.format(3.2109, "ms"));
    assertEquals("1.50 s", Report.format(1.5, "s"));
  }
}
