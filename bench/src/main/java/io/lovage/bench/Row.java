package io.lovage.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of the results table.
 *
 * @param name what was measured, with the settings that matter to read it
 * @param value the measured value, or null if it could not be measured
 * @param unit e.g. {@code tasks/s}, {@code ms}, {@code s}, {@code ×}
 * @param goal what it should reach (never fails the run)
 * @param note how it was measured, e.g. the best wrk settings
 * @param raw the numbers behind the value, written to the JSON report
 * @param error why the row could not be measured, or null; a row without a value and without an
 *     error was not measured on purpose (the machine cannot run it) and says why in its note
 */
record Row(
    String name,
    Double value,
    String unit,
    Goal goal,
    String note,
    Map<String, Object> raw,
    String error) {

  Row {
    raw = raw == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(raw));
    note = note == null ? "" : note;
  }

  static Row of(
      String name, double value, String unit, Goal goal, String note, Map<String, Object> raw) {
    return new Row(name, value, unit, goal, note, raw, null);
  }

  static Row missing(String name, String unit, Goal goal, String error) {
    return new Row(name, null, unit, goal, "", Map.of(), error);
  }

  /**
   * A row this machine cannot measure (e.g. no RabbitMQ server to run a cluster of), with the
   * reason as its note: shown, but it does not fail the run as a {@link #missing} row does.
   */
  static Row notMeasuredHere(String name, String unit, Goal goal, String why) {
    return new Row(name, null, unit, goal, "not measured here: " + why, Map.of(), null);
  }

  /** Not measured on purpose: see {@link #notMeasuredHere}. */
  boolean skipped() {
    return value == null && error == null;
  }

  /** Could not be measured though it should have been: the run exits non-zero. */
  boolean failed() {
    return !measured() && !skipped();
  }

  boolean measured() {
    return value != null && !value.isNaN() && !value.isInfinite();
  }

  /** A throughput row, drawn in the chart. */
  boolean isThroughput() {
    return unit.endsWith("/s");
  }

  Boolean goalMet() {
    return goal.met(measured() ? value : null);
  }

  /**
   * {@code numerator ÷ denominator}, or a missing row if either is missing: a ratio is only as good
   * as both its sides.
   */
  static Row ratio(String name, Row numerator, Row denominator, Goal goal) {
    if (numerator.skipped() || denominator.skipped()) {
      Row skipped = numerator.skipped() ? numerator : denominator;
      return new Row(name, null, "×", goal, skipped.note(), Map.of(), null);
    }
    if (!numerator.measured() || !denominator.measured() || denominator.value() == 0) {
      return missing(
          name,
          "×",
          goal,
          "needs both '" + numerator.name() + "' and '" + denominator.name() + "'");
    }
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("numerator", numerator.name());
    raw.put("numeratorValue", numerator.value());
    raw.put("denominator", denominator.name());
    raw.put("denominatorValue", denominator.value());
    return of(
        name,
        numerator.value() / denominator.value(),
        "×",
        goal,
        Report.format(numerator.value(), numerator.unit())
            + " ÷ "
            + Report.format(denominator.value(), denominator.unit()),
        raw);
  }
}
