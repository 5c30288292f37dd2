package io.lovage.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Lovage worker or producer jar running as its own JVM, as a user runs it: {@code java -jar},
 * settings from the environment (the table in docs/operations.md), ready once {@code GET /health}
 * answers 200.
 */
final class LovageApp {
  private static final Duration STARTUP = Duration.ofSeconds(90);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** {@code lovage_worker_tasks_total{outcome="succeeded",worker="..."} 123.0} */
  private static final Pattern SUCCEEDED =
      Pattern.compile(
          "^lovage_worker_tasks_total\\{[^}]*outcome=\"succeeded\"[^}]*}\\s+(\\S+)",
          Pattern.MULTILINE);

  private final Processes.Child child;
  private final int port;

  private LovageApp(Processes.Child child, int port) {
    this.child = child;
    this.port = port;
  }

  /**
   * A worker consuming {@code queue}; {@code settings} are more environment variables (e.g. {@code
   * LOVAGE_PREFETCH}).
   */
  static LovageApp worker(
      BenchContext ctx, String name, String queue, Map<String, String> settings) {
    Map<String, String> env = new HashMap<>(settings);
    env.put("LOVAGE_QUEUES", queue);
    return start(ctx, name, ctx.workerJar(), env);
  }

  /**
   * A worker consuming a task queue of the bench's own, which is deleted (with its dead-letter
   * queues and urgent lane) when the bench ends.
   */
  static LovageApp workerOnOwnQueue(
      BenchContext ctx, String name, String queue, Map<String, String> settings) {
    ctx.queues().usedTaskQueue(queue);
    System.out.println("  starting " + name);
    return worker(ctx, name, queue, settings);
  }

  static LovageApp producer(BenchContext ctx, String name, Map<String, String> settings) {
    return start(ctx, name, ctx.producerJar(), settings);
  }

  private static LovageApp start(
      BenchContext ctx, String name, Path jar, Map<String, String> settings) {
    int port = freePort();
    Map<String, String> env = new HashMap<>();
    env.put("RABBITMQ_URI", ctx.rabbitUri());
    env.putAll(ctx.brokerEnv());
    env.put("MICRONAUT_SERVER_PORT", String.valueOf(port));
    // No log line per task on either side of a comparison (Celery runs at WARNING too).
    env.put("LOG_LEVEL", "WARN");
    env.put("LOVAGE_SHUTDOWN_GRACE", "5s");
    env.putAll(settings);
    List<String> command = new ArrayList<>();
    command.add(ctx.java().toString());
    command.add("-jar");
    command.add(jar.toString());
    LovageApp app = new LovageApp(ctx.processes().start(name, command, env, null), port);
    app.awaitHealthy();
    return app;
  }

  private void awaitHealthy() {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!child.isAlive()) {
        throw new IllegalStateException(
            child.name() + " exited at start; its log " + child.log() + ":\n" + child.tail(30));
      }
      try {
        if (get("/health").statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Pause.millis(200);
    }
    throw new IllegalStateException(
        child.name() + " not healthy within " + STARTUP + "; its log " + child.log());
  }

  int port() {
    return port;
  }

  Processes.Child child() {
    return child;
  }

  /**
   * Tasks this worker ran successfully since it started, from {@code /prometheus}: exact. Only that
   * family is asked for, so the page written is small; Micrometer still collects every meter for
   * it, so a poll still costs the worker (see {@link Blast} for how seldom the bench asks).
   */
  long succeeded() {
    return parseSucceeded(prometheus("lovage_worker_tasks_total"));
  }

  static long parseSucceeded(String prometheusText) {
    Matcher m = SUCCEEDED.matcher(prometheusText);
    long total = 0;
    boolean found = false;
    while (m.find()) {
      total += (long) Double.parseDouble(m.group(1));
      found = true;
    }
    if (!found) {
      throw new IllegalStateException(
          "no lovage_worker_tasks_total{outcome=\"succeeded\"} in /prometheus");
    }
    return total;
  }

  /**
   * A metric from {@code /prometheus}, summed over its series (e.g. {@code
   * lovage_scheduler_leader}); NaN if the app does not export it.
   */
  double metric(String name) {
    return parseMetric(prometheus(name), name);
  }

  private String prometheus(String family) {
    try {
      HttpResponse<String> response = get("/prometheus?name%5B%5D=" + family);
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            child.name() + " /prometheus answered " + response.statusCode());
      }
      return response.body();
    } catch (IOException e) {
      throw new IllegalStateException(child.name() + " /prometheus: " + e, e);
    }
  }

  static double parseMetric(String prometheusText, String name) {
    Matcher m =
        Pattern.compile("^" + Pattern.quote(name) + "(?:\\{[^}]*})?\\s+(\\S+)", Pattern.MULTILINE)
            .matcher(prometheusText);
    double total = Double.NaN;
    while (m.find()) {
      total = (Double.isNaN(total) ? 0 : total) + Double.parseDouble(m.group(1));
    }
    return total;
  }

  /** POSTs JSON and answers the status code. */
  int postJson(String path, String json) throws IOException {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                  .timeout(Duration.ofSeconds(30))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString(json))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  private HttpResponse<String> get(String path) throws IOException {
    try {
      return HTTP.send(
          HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
              .timeout(Duration.ofSeconds(5))
              .GET()
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  void stop(BenchContext ctx) {
    ctx.processes().stop(child);
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
