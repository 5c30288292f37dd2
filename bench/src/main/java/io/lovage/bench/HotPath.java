package io.lovage.bench;

import io.lovage.protocol.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * Workload 12: the worker's own cost per task, without a broker: the JMH benchmark {@code
 * WorkerHotPathBenchmark} (decode, run a no-op task, record its events, acknowledge, on the
 * in-memory broker), with and without results, under JMH's GC profiler for the bytes each task
 * allocates. One forked JMH run gives the four rows.
 */
final class HotPath {
  private HotPath() {}

  /** What one JMH run measured, per {@code results} parameter. */
  record Score(double tasksPerSecond, double error, double bytesPerTask) {}

  static void run(BenchContext ctx, Rows rows) {
    Lazy<Map<Boolean, Score>> scores = Lazy.of(() -> jmh(ctx));
    for (boolean results : List.of(true, false)) {
      String with = results ? "results recorded" : "no results";
      rows.measure(
          "Worker hot path without a broker (JMH), " + with,
          "tasks/s",
          results ? Goal.atLeast(25_000, "≥ 25,000") : Goal.NONE,
          () -> {
            Score score = scores.get().get(results);
            return new Rows.Measured(
                score.tasksPerSecond(),
                String.format(
                    "WorkerHotPathBenchmark on the in-memory broker, one fork, %s",
                    Double.isNaN(score.error())
                        ? "too few iterations for an error bound"
                        : String.format("± %,.0f (99.9 %%)", score.error())),
                Map.of("error", score.error()));
          });
      rows.measure(
          "Bytes allocated per task in the worker hot path (JMH -prof gc), " + with,
          "bytes/task",
          Goal.NONE,
          () ->
              new Rows.Measured(
                  scores.get().get(results).bytesPerTask(),
                  "gc.alloc.rate.norm of the same run",
                  Map.of()));
    }
  }

  /** JMH writes "NaN" as a string (the error of too few iterations). */
  private static double number(JsonNode node) {
    return node.isNumber() ? node.asDouble() : Double.parseDouble(node.asString("NaN"));
  }

  private static Map<Boolean, Score> jmh(BenchContext ctx) {
    Path jar = ctx.repo().resolve("bench/jmh/target/lovage-jmh.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: ./mvnw -DskipTests package builds it");
    }
    try {
      Path out = Files.createDirectories(ctx.repo().resolve("bench/target/jmh"));
      Path json = out.resolve("hot-path.json");
      Path log = out.resolve("hot-path.log");
      Files.deleteIfExists(json);
      Process process =
          new ProcessBuilder(
                  ctx.java().toString(),
                  "-jar",
                  jar.toString(),
                  "WorkerHotPathBenchmark",
                  "-f",
                  "1",
                  "-wi",
                  String.valueOf(ctx.profile().hotPathWarmups()),
                  "-w",
                  "2s",
                  "-i",
                  String.valueOf(ctx.profile().hotPathIterations()),
                  "-r",
                  "2s",
                  "-prof",
                  "gc",
                  "-rf",
                  "json",
                  "-rff",
                  json.toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!process.waitFor(5, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new IllegalStateException("JMH did not finish within 5 minutes; its log: " + log);
      }
      if (process.exitValue() != 0 || !Files.isRegularFile(json)) {
        throw new IllegalStateException("JMH failed (exit " + process.exitValue() + "): " + log);
      }
      Map<Boolean, Score> scores = new LinkedHashMap<>();
      for (JsonNode run : Json.MAPPER.readTree(json.toFile())) {
        boolean results = Boolean.parseBoolean(run.path("params").path("results").asString());
        JsonNode primary = run.path("primaryMetric");
        scores.put(
            results,
            new Score(
                number(primary.path("score")),
                number(primary.path("scoreError")),
                number(run.path("secondaryMetrics").path("gc.alloc.rate.norm").path("score"))));
      }
      if (scores.size() != 2) {
        throw new IllegalStateException("JMH's results lack a parameter: " + json);
      }
      return scores;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run JMH: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
