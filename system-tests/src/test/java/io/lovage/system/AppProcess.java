package io.lovage.system;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * One of Lovage's jars running as its own JVM process, as a user runs it: {@code java -jar}, the
 * broker and port from the environment, output to a log file under target/. The JVMs share their
 * loaded classes ({@link ClassDataArchives}), which halves the time they take to start.
 */
final class AppProcess implements AutoCloseable {
  private static final Duration STARTUP = Duration.ofSeconds(60);
  private static final Pattern HISTORY_READ = Pattern.compile("event history read in (\\d+) ms");
  private static final Duration TASK_WAIT = Duration.ofSeconds(60);
  private static final java.util.Set<String> FINAL =
      java.util.Set.of("SUCCESS", "FAILURE", "REJECTED", "REVOKED");
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private final Process process;
  private final int port;
  private final Path log;

  private AppProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  static AppProcess worker(String queue, int concurrency) {
    return worker(queue, Map.of("LOVAGE_IO_CONCURRENCY", String.valueOf(concurrency)));
  }

  static AppProcess worker(String queue, Map<String, String> settings) {
    Map<String, String> env = new java.util.HashMap<>(settings);
    env.put("LOVAGE_QUEUES", queue);
    return start("lovage.worker.jar", "worker", env, List.of()).awaitHealthy();
  }

  /**
   * A worker not waited for: it may take a task and die before it ever answers /health (a task that
   * crashes its JVM).
   */
  static AppProcess workerNotAwaited(String queue, Map<String, String> settings) {
    Map<String, String> env = new java.util.HashMap<>(settings);
    env.put("LOVAGE_QUEUES", queue);
    return start("lovage.worker.jar", "worker", env, List.of());
  }

  /** A worker with a jar of the user's own tasks on its classpath, as /app/tasks/ in the image. */
  static AppProcess workerWithTasks(String queue, String tasksJar) {
    return start(
            "lovage.worker.jar",
            "worker",
            Map.of("LOVAGE_QUEUES", queue),
            List.of(tasksJar, "io.lovage.worker.app.WorkerApplication"))
        .awaitHealthy();
  }

  static AppProcess producer() {
    return producer(Map.of());
  }

  static AppProcess producer(Map<String, String> env) {
    return start("lovage.producer.jar", "producer", env, List.of())
        .awaitHealthy()
        .awaitHistoryRead();
  }

  /**
   * A worker or producer started, not yet waited for ({@link #awaitHealthy}), so that several can
   * start at once; {@code env} may override {@code RABBITMQ_URI}.
   */
  static AppProcess startWorker(Map<String, String> env) {
    return start("lovage.worker.jar", "worker", env, List.of());
  }

  /**
   * The JIT of the services these tests start: C1 only. They live seconds to minutes and run at
   * most thousands of tasks, so C2's compiling (on 2 cores, beside two or three other JVMs and
   * RabbitMQ) costs more than its faster code saves: FailuresIT took 25 s instead of 35 with it,
   * and WalkingSystemIT 47 s instead of 57. Behaviour is the same; the benchmark's services keep
   * the default JIT.
   */
  private static final List<String> JIT_OPTIONS = List.of("-XX:TieredStopAtLevel=1");

  static AppProcess startProducer(Map<String, String> env) {
    return start("lovage.producer.jar", "producer", env, List.of());
  }

  /**
   * @param classpath empty to run {@code java -jar}; else extra jars then the main class, to run
   *     {@code java -cp jar:extra… main}
   */
  private static AppProcess start(
      String jarProperty, String kind, Map<String, String> env, List<String> classpath) {
    String jar = System.getProperty(jarProperty);
    if (jar == null || !new File(jar).isFile()) {
      throw new IllegalStateException(
          "no jar at " + jar + ": run the tests with ./mvnw verify, which packages it first");
    }
    int port = freePort();
    try {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      List<String> jars = new ArrayList<>(List.of(jar));
      if (!classpath.isEmpty()) {
        jars.addAll(classpath.subList(0, classpath.size() - 1));
      }
      ClassDataArchives.Use archive = ClassDataArchives.forClasspath(jars);
      command.addAll(archive.options());
      command.addAll(JIT_OPTIONS);
      if (classpath.isEmpty()) {
        command.add("-jar");
        command.add(jar);
      } else {
        command.add("-cp");
        command.add(String.join(File.pathSeparator, jars));
        command.add(classpath.get(classpath.size() - 1));
      }
      ProcessBuilder builder = new ProcessBuilder(command);
      return launch(builder, kind, port, env, archive);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + kind, e);
    }
  }

  /**
   * A jar started by a command line as a guide shows it, e.g. {@code "$JAVA_HOME/bin/java" -jar
   * worker/target/lovage-worker.jar}: run verbatim by bash in {@code directory}, which execs the
   * JVM (so this process is the JVM). The line is not ours to change, so the class-data archive
   * comes through {@code JAVA_TOOL_OPTIONS}; {@code env} may set {@code JAVA_HOME} and {@code
   * PATH}.
   */
  static AppProcess startCommandLine(
      String kind, String jar, String commandLine, Path directory, Map<String, String> env) {
    int port = freePort();
    try {
      ClassDataArchives.Use archive = ClassDataArchives.forClasspath(List.of(jar));
      ProcessBuilder builder =
          new ProcessBuilder("bash", "-c", "exec " + commandLine).directory(directory.toFile());
      Map<String, String> withArchive = new java.util.HashMap<>(env);
      if (!archive.options().isEmpty()) {
        withArchive.put("JAVA_TOOL_OPTIONS", String.join(" ", archive.options()));
      }
      return launch(builder, kind, port, withArchive, archive);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + kind + " with: " + commandLine, e);
    }
  }

  private static AppProcess launch(
      ProcessBuilder builder,
      String kind,
      int port,
      Map<String, String> env,
      ClassDataArchives.Use archive)
      throws IOException {
    Path log = Files.createTempFile(Path.of("target"), kind + "-", ".log");
    builder.environment().put("RABBITMQ_URI", RabbitFixture.uri());
    if (RabbitFixture.managementUri() != null) {
      builder.environment().put("LOVAGE_MANAGEMENT_URI", RabbitFixture.managementUri());
    }
    builder.environment().put("MICRONAUT_SERVER_PORT", String.valueOf(port));
    // A producer reads the task events of this long back at start: the tests' tasks are minutes
    // old at most, and a whole CI run's events (the fault suite's tens of thousands) would make
    // every later producer start read them all. A test may ask for more.
    builder.environment().put("LOVAGE_RESULT_EXPIRES", "5m");
    builder.environment().putAll(env);
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    Process process = builder.start();
    process.onExit().thenRun(archive.afterExit());
    return new AppProcess(process, port, log);
  }

  AppProcess awaitHealthy() {
    Await.until(
        STARTUP,
        "process on port " + port + " to be healthy (log: " + log + ")",
        () -> {
          if (!process.isAlive()) {
            throw new IllegalStateException(
                "process exited with " + process.exitValue() + ", log: " + log);
          }
          try {
            return get("/health").statusCode() == 200;
          } catch (IOException e) {
            return false;
          }
        });
    return this;
  }

  /**
   * A producer that has just started answers 503 for a task it has not read yet from the event
   * history: waits until it has read it all, so that a task never sent is a 404 (or, with an API
   * key and no credentials, a 401).
   */
  AppProcess awaitHistoryRead() {
    Await.until(
        STARTUP,
        "producer on port " + port + " to read the task history (log: " + log + ")",
        () -> {
          try {
            return get("/tasks/history-probe-" + UUID.randomUUID()).statusCode() != 503;
          } catch (IOException e) {
            return false;
          }
        });
    return this;
  }

  /** How long this producer took to read the task history at its start, as its log says. */
  double historyReadSeconds() {
    return Await.until(
        STARTUP,
        "the producer to log that it has read the task history (log: " + log + ")",
        () -> {
          try {
            Matcher read = HISTORY_READ.matcher(Files.readString(log));
            return read.find()
                ? Optional.of(Long.parseLong(read.group(1)) / 1000.0)
                : Optional.empty();
          } catch (IOException e) {
            return Optional.empty();
          }
        });
  }

  HttpResponse<String> get(String path) throws IOException {
    return send(HttpRequest.newBuilder(uri(path)).GET().build());
  }

  HttpResponse<String> post(String path, String contentType, String body) throws IOException {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  HttpResponse<String> post(String path, String body, Map<String, String> headers)
      throws IOException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(request::header);
    return send(request.build());
  }

  /** POST /tasks with this JSON; asserts 202 Accepted and answers the task's id. */
  String submitTask(String json) throws IOException {
    HttpResponse<String> accepted = post("/tasks", "application/json", json);
    if (accepted.statusCode() != 202) {
      throw new AssertionError(
          "expected 202, got " + accepted.statusCode() + ": " + accepted.body());
    }
    return Json.MAPPER.readTree(accepted.body()).get("id").asString();
  }

  /** What GET /tasks/{id} says, when the task is known. */
  Optional<JsonNode> task(String id) {
    try {
      HttpResponse<String> response = get("/tasks/" + id);
      return response.statusCode() == 200
          ? Optional.of(Json.MAPPER.readTree(response.body()))
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** Waits until the task is in {@code state} and answers what GET /tasks/{id} said. */
  JsonNode awaitState(String id, String state) {
    return Await.until(
        TASK_WAIT,
        "task " + id + " in state " + state,
        () -> task(id).filter(t -> state.equals(t.get("state").asString())));
  }

  /** Waits until the task has finished: SUCCESS, FAILURE, REJECTED or REVOKED. */
  JsonNode awaitFinal(String id) {
    return Await.until(
        TASK_WAIT,
        "task " + id + " to finish",
        () -> task(id).filter(t -> FINAL.contains(t.get("state").asString())));
  }

  HttpResponse<String> put(String path, String json) throws IOException {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json))
            .build());
  }

  HttpResponse<String> delete(String path) throws IOException {
    return send(HttpRequest.newBuilder(uri(path)).DELETE().build());
  }

  boolean isAlive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  int port() {
    return port;
  }

  /** The file its output goes to, for failure messages. */
  Path log() {
    return log;
  }

  /** The processes this one started and that still run (a worker's process pool). */
  List<ProcessHandle> children() {
    return process.children().toList();
  }

  HttpResponse<String> send(HttpRequest request) throws IOException {
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  URI uri(String path) {
    return URI.create("http://localhost:" + port + path);
  }

  /** The worker's name in events: {@code lovage-<pid>@<host>}. */
  String workerNamePrefix() {
    return "lovage-" + process.pid() + "@";
  }

  /** Kills the process at once (SIGKILL), as a crash or the OOM killer would. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Sends SIGTERM, as docker compose stop does, and answers the exit code. */
  int stop(Duration timeout) {
    terminate();
    return awaitExit(timeout);
  }

  /** Sends SIGTERM and returns at once; {@link #awaitExit} waits for the exit. */
  void terminate() {
    process.destroy();
  }

  /** Waits for the process to exit and answers its exit code. */
  int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        throw new AssertionError("did not stop within " + timeout + ", log: " + log);
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(40, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
