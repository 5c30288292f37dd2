package io.lovage.system;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The memory of one JVM process, sampled during the soak: its resident set from {@code
 * /proc/<pid>/status}, and its live heap, the heap used right after a full collection that {@code
 * jcmd <pid> GC.run} asks for (what a leak makes grow; the heap used between collections only says
 * how lazy the collector is).
 */
final class MemoryProbe {
  private static final Pattern RSS = Pattern.compile("VmRSS:\\s+(\\d+) kB");

  /** One sample: seconds since the soak started, resident set and live heap, in KiB. */
  record Sample(double seconds, long rssKib, long liveHeapKib) {}

  private final String name;
  private final long pid;
  private final List<Sample> samples = new ArrayList<>();

  MemoryProbe(String name, long pid) {
    this.name = name;
    this.pid = pid;
  }

  String name() {
    return name;
  }

  synchronized List<Sample> samples() {
    return List.copyOf(samples);
  }

  synchronized void sample(double seconds) {
    try {
      tool("jcmd", String.valueOf(pid), "GC.run");
      long live = oldGenerationKib(tool("jstat", "-gc", String.valueOf(pid)));
      long rss = parse(RSS, Files.readString(Path.of("/proc/" + pid + "/status")));
      samples.add(new Sample(seconds, rss, live));
    } catch (IOException e) {
      throw new IllegalStateException("cannot sample the memory of " + name + ": " + e, e);
    }
  }

  /** All samples of these probes as CSV: probe, seconds, RSS and live heap in KiB. */
  static void writeCsv(Path file, MemoryProbe... probes) throws IOException {
    StringBuilder csv = new StringBuilder("process,seconds,rss_kib,live_heap_kib\n");
    for (MemoryProbe probe : probes) {
      for (Sample s : probe.samples()) {
        csv.append(
            String.format(
                Locale.ROOT,
                "%s,%.0f,%d,%d%n",
                probe.name,
                s.seconds(),
                s.rssKib(),
                s.liveHeapKib()));
      }
    }
    Files.createDirectories(file.getParent());
    Files.writeString(file, csv);
  }

  /** The OU column (old generation used, KiB) of {@code jstat -gc}. */
  private static long oldGenerationKib(String jstat) throws IOException {
    String[] lines = jstat.strip().split("\n");
    List<String> header = List.of(lines[0].trim().split("\\s+"));
    String[] values = lines[lines.length - 1].trim().split("\\s+");
    int column = header.indexOf("OU");
    if (column < 0 || values.length != header.size()) {
      throw new IOException("no OU column in: " + jstat);
    }
    return Math.round(Double.parseDouble(values[column]));
  }

  /** Runs a JDK tool against the process and answers its output. */
  private static String tool(String name, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", name).toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    try {
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(command + " failed: " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return out;
  }

  private static long parse(Pattern pattern, String text) throws IOException {
    Matcher m = pattern.matcher(text);
    if (!m.find()) {
      throw new IOException("no " + pattern + " in: " + text);
    }
    return Long.parseLong(m.group(1));
  }

  /**
   * Whether memory stayed flat after the warm-up: the median of the last third of the samples taken
   * after {@code warmUpSeconds} is at most {@code 1 + tolerance} times the median of the first
   * third, plus {@code slackKib} (small heaps move by a few MiB with no leak at all).
   */
  record Verdict(String name, String measure, long firstKib, long lastKib, boolean flat) {
    String describe() {
      return String.format(
          Locale.ROOT,
          "%s %s %.0f → %.0f MiB (%+.0f%%)%s",
          name,
          measure,
          firstKib / 1024.0,
          lastKib / 1024.0,
          firstKib == 0 ? 0 : 100.0 * (lastKib - firstKib) / firstKib,
          flat ? "" : " NOT FLAT");
    }
  }

  Verdict liveHeap(double warmUpSeconds, double tolerance, long slackKib) {
    return verdict("live heap", warmUpSeconds, tolerance, slackKib, Sample::liveHeapKib);
  }

  Verdict rss(double warmUpSeconds, double tolerance, long slackKib) {
    return verdict("RSS", warmUpSeconds, tolerance, slackKib, Sample::rssKib);
  }

  private Verdict verdict(
      String measure,
      double warmUpSeconds,
      double tolerance,
      long slackKib,
      java.util.function.ToLongFunction<Sample> value) {
    List<Long> after =
        samples().stream()
            .filter(s -> s.seconds() >= warmUpSeconds)
            .mapToLong(value)
            .boxed()
            .toList();
    if (after.size() < 3) {
      return new Verdict(name, measure, 0, 0, false);
    }
    int third = after.size() / 3;
    long first = median(after.subList(0, third));
    long last = median(after.subList(after.size() - third, after.size()));
    return new Verdict(name, measure, first, last, last <= first * (1 + tolerance) + slackKib);
  }

  private static long median(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }
}
