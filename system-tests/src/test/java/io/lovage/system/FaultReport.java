package io.lovage.system;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The suite's table: one markdown row of counts per scenario, printed as it finishes and rewritten
 * to {@code target/faults.md} after every row, so a run that dies half-way still leaves its rows.
 */
final class FaultReport {
  static final String HEADER =
      "| scenario | submitted | confirmed | refused | completed | dead letters | lost | ran twice"
          + " | ran unconfirmed | seconds | result |\n"
          + "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|";

  /** One scenario's row; {@code notes} are the scenario's own measures (latencies, memory). */
  record Row(String scenario, Counts counts, double seconds, List<String> failed, String notes) {
    boolean passed() {
      return failed.isEmpty();
    }

    String markdown() {
      return String.format(
          Locale.ROOT,
          "| %s | %,d | %,d | %,d | %,d | %,d | %,d | %,d | %,d | %.0f | %s |",
          scenario,
          counts.submitted(),
          counts.confirmed(),
          counts.refused(),
          counts.completed(),
          counts.deadLetters(),
          counts.lost(),
          counts.ranTwice(),
          counts.ranUnconfirmed(),
          seconds,
          passed() ? "pass" : "**FAIL**");
    }
  }

  private final FaultProfile profile;
  private final Path file;
  private final Instant started = Instant.now().truncatedTo(ChronoUnit.SECONDS);
  private final List<Row> rows = new ArrayList<>();
  private final List<String> preface = new ArrayList<>();

  FaultReport(FaultProfile profile, Path file) {
    this.profile = profile;
    this.file = file;
  }

  synchronized void add(Row row) {
    rows.add(row);
    System.out.println("[faults] " + row.markdown());
    System.out.println("[faults]   " + row.notes());
    if (!row.passed()) {
      System.out.println("[faults]   failed: " + String.join("; ", row.failed()));
    }
    write();
  }

  /** A sentence printed above the table. */
  synchronized void preface(String sentence) {
    preface.add(sentence);
    System.out.println("[faults] " + sentence);
  }

  synchronized String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("Fault injection, profile `")
        .append(profile.name())
        .append("`, started ")
        .append(started)
        .append(", ")
        .append(Runtime.getRuntime().availableProcessors())
        .append(" cores.");
    preface.forEach(sentence -> md.append(' ').append(sentence));
    md.append("\n\n").append(HEADER).append('\n');
    rows.forEach(row -> md.append(row.markdown()).append('\n'));
    md.append('\n');
    for (Row row : rows) {
      md.append("- ").append(row.scenario()).append(": ").append(row.notes());
      if (!row.passed()) {
        md.append(" **Failed:** ").append(String.join("; ", row.failed()));
      }
      md.append('\n');
    }
    return md.toString();
  }

  private void write() {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, markdown());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Path file() {
    return file;
  }
}
