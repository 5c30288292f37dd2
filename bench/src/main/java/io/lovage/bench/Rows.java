package io.lovage.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The rows measured so far. Each measurement runs on its own: one that fails becomes a row without
 * a value (and with the reason), the next one still runs, and the bench exits non-zero at the end.
 */
final class Rows {
  private final List<Row> rows = new ArrayList<>();

  /** A measured value with how it was measured and the raw numbers behind it. */
  record Measured(double value, String note, Map<String, Object> raw) {}

  interface Measurement {
    Measured run();
  }

  Row measure(String name, String unit, Goal goal, Measurement measurement) {
    Row row;
    try {
      Measured measured = measurement.run();
      row = Row.of(name, measured.value(), unit, goal, measured.note(), measured.raw());
    } catch (RuntimeException e) {
      String reason = e.getMessage() == null ? e.toString() : e.getMessage();
      System.out.println("  NOT MEASURED: " + name + ": " + reason);
      row = Row.missing(name, unit, goal, reason);
    }
    return add(row);
  }

  Row add(Row row) {
    rows.add(row);
    return row;
  }

  List<Row> all() {
    return List.copyOf(rows);
  }
}
