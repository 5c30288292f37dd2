package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChartTest {
  private static final Instant FROM = Instant.parse("2026-12-02T12:00:00Z");
  private static final Instant TO = FROM.plusSeconds(100);

  @Test
  void anEmptyChartSaysNoDataYetAndStillHasItsTitleAndDescription() {
    String svg =
        Chart.render(
            "c",
            "Tasks per second",
            "One line per outcome",
            List.of(new Chart.Line("succeeded", "✓", "outcome-succeeded", List.of())),
            FROM,
            TO,
            Chart.Size.WIDE);

    assertTrue(svg.startsWith("<svg "), svg);
    assertTrue(svg.contains("role=\"img\" aria-labelledby=\"c-title c-desc\""), svg);
    assertTrue(svg.contains("<title id=\"c-title\">Tasks per second</title>"), svg);
    assertTrue(svg.contains("<desc id=\"c-desc\">One line per outcome</desc>"), svg);
    assertTrue(svg.contains("No data yet"), svg);
    assertFalse(svg.contains("<polyline"), svg);
  }

  @Test
  void aLineIsScaledToTheChartWithItsSymbolAtItsEndAndItsNameEscaped() {
    String svg =
        Chart.render(
            "c",
            "t",
            "d",
            List.of(
                new Chart.Line(
                    "<q>",
                    "✓",
                    "outcome-succeeded",
                    List.of(new Chart.Point(FROM, 0), new Chart.Point(TO, 4)))),
            FROM,
            TO,
            new Chart.Size(140, 48, true));

    // Plot from x 40 to 124, y 8 (value 5, the round number above 4) to 44 (value 0).
    assertTrue(svg.contains("points=\"40.0,44.0 124.0,15.2\""), svg);
    assertTrue(svg.contains(">5</text>"), "the scale's top: " + svg);
    assertTrue(svg.contains("class=\"marker outcome-succeeded\""), svg);
    assertTrue(svg.contains("<title>&lt;q&gt;</title>"), svg);
    assertFalse(svg.contains("No data yet"), svg);
    assertFalse(svg.contains("min ago"), "no time axis on a sparkline");
  }

  @Test
  void theScaleEndsAtARoundNumber() {
    assertEquals(1, Chart.niceCeiling(0));
    assertEquals(1, Chart.niceCeiling(0.7));
    assertEquals(2.5, Chart.niceCeiling(2.1));
    assertEquals(5, Chart.niceCeiling(4));
    assertEquals(10, Chart.niceCeiling(7.3));
    assertEquals(200, Chart.niceCeiling(120));
  }

  @Test
  void theLegendNamesEachLineBesideItsSymbol() {
    String legend =
        Chart.legend(List.of(new Chart.Line("failed", "✗", "outcome-failed", List.of())));
    assertTrue(legend.contains("✗</span> failed"), legend);
    assertTrue(legend.contains("swatch outcome-failed"), legend);
  }
}
