package io.lovage.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A process's resident memory (RSS, from {@code /proc/<pid>/status}), as a row's measurement: what
 * a JVM holds after the work the row names.
 */
final class Resident {
  private Resident() {}

  static Rows.Measured of(Processes.Child child, String note) {
    long pid = child.process().pid();
    if (!child.process().isAlive()) {
      throw new IllegalStateException(child.name() + " is not running");
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith("VmRSS:")) {
          long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return new Rows.Measured(kib / 1024.0, note, Map.of("rssKiB", kib, "pid", pid));
        }
      }
      throw new IllegalStateException("no VmRSS in /proc/" + pid + "/status");
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the RSS of " + child.name() + ": " + e, e);
    }
  }
}
