package io.lovage.system;

import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Python Celery from Debian run against the test broker: a worker process, or a client script, with
 * the app in src/test/python. Celery 5.2 ({@code /usr/bin/python3}, package python3-celery), or the
 * Python that {@code LOVAGE_TEST_PYTHON} names (.ci/rabbitmq4 runs trixie's Celery 5.5 that way).
 */
final class PythonCelery implements AutoCloseable {
  private static final String DEFAULT_PYTHON = "/usr/bin/python3";
  private static String version;
  private final Process process;
  private final Path log;

  private PythonCelery(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** A Celery worker with task events on, consuming {@code queue} (a classic queue). */
  static PythonCelery worker(String queue) {
    return worker(queue, "classic", Map.of());
  }

  /**
   * A Celery worker with task events on, consuming {@code queue} of this type ({@code quorum} needs
   * Celery 5.5), with more of lovage_celery.py's settings ({@code LOVAGE_EXCHANGE_TYPE}).
   */
  static PythonCelery worker(String queue, String queueType, Map<String, String> settings) {
    List<String> command =
        python(
            "-m",
            "celery",
            "-A",
            "lovage_celery",
            "worker",
            "-Q",
            queue,
            "-P",
            "solo",
            "-E",
            "--without-mingle",
            "--without-gossip",
            "-n",
            "py-" + queue + "@%h",
            "--loglevel=INFO");
    if ("0".equals(settings.get("LOVAGE_TASK_EVENTS"))) {
      command.remove("-E");
    }
    PythonCelery worker = start(queue, queueType, settings, command);
    Await.until(
        Duration.ofSeconds(60),
        "the Celery worker to be ready (log: " + worker.log + ")",
        () -> {
          if (!worker.process.isAlive()) {
            throw new IllegalStateException("Celery worker exited, log: " + worker.log);
          }
          return worker.output().contains("ready.");
        });
    return worker;
  }

  /**
   * Runs Celery's command line ({@code celery -A lovage_celery <args>}) against the test broker to
   * its end and answers its output; it must exit 0.
   */
  static String command(String queue, Duration timeout, String... args) {
    List<String> command = python("-m", "celery", "-A", "lovage_celery");
    command.addAll(List.of(args));
    PythonCelery celery = start(queue, "quorum", Map.of(), command);
    try {
      if (!celery.process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        celery.process.destroyForcibly();
        throw new AssertionError(
            command + " did not finish in " + timeout + ":\n" + celery.output());
      }
      if (celery.process.exitValue() != 0) {
        throw new AssertionError(
            command + " exited with " + celery.process.exitValue() + ":\n" + celery.output());
      }
      return celery.output();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Runs a client script to its end and answers its last line of output. */
  static String runScript(String script, String queue, Duration timeout) {
    return script(script, queue, Map.of()).lastLine(timeout);
  }

  /**
   * Starts a client script with more of lovage_celery.py's settings; {@link #lastLine} waits for
   * its end.
   */
  static PythonCelery script(String script, String queue, Map<String, String> settings) {
    return start(queue, "quorum", settings, python(script));
  }

  /** The script's last line of output once it has ended, with exit code 0, within the timeout. */
  String lastLine(Duration timeout) {
    String script = process.info().commandLine().orElse("the script");
    try {
      if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(
            script + " did not finish in " + timeout + ", output:\n" + output());
      }
      String output = output();
      if (process.exitValue() != 0) {
        throw new AssertionError(script + " exited with " + process.exitValue() + ":\n" + output);
      }
      String[] lines = output.strip().split("\n");
      return lines[lines.length - 1];
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The Python command with these arguments. */
  static List<String> python(String... args) {
    List<String> command = new java.util.ArrayList<>();
    String configured = System.getenv("LOVAGE_TEST_PYTHON");
    if (configured != null && !configured.isBlank()) {
      command.addAll(List.of(configured.trim().split("\\s+")));
    } else {
      command.add(DEFAULT_PYTHON);
    }
    command.addAll(List.of(args));
    return command;
  }

  /** The version of the Celery that runs, e.g. {@code 5.5.2}. */
  static synchronized String version() {
    if (version == null) {
      version =
          start(
                  "celery",
                  "quorum",
                  Map.of(),
                  python("-c", "import celery; print(celery.__version__)"))
              .lastLine(Duration.ofSeconds(30))
              .strip();
    }
    return version;
  }

  /** Whether the Celery that runs is at least {@code major.minor}. */
  static boolean atLeast(int major, int minor) {
    String[] parts = version().split("\\.");
    int haveMajor = Integer.parseInt(parts[0]);
    int haveMinor = Integer.parseInt(parts[1]);
    return haveMajor > major || (haveMajor == major && haveMinor >= minor);
  }

  private static PythonCelery start(
      String queue, String queueType, Map<String, String> settings, List<String> command) {
    if (System.getenv("LOVAGE_TEST_PYTHON") == null
        && !Files.isExecutable(Path.of(DEFAULT_PYTHON))) {
      throw new IllegalStateException(
          "Celery interop tests need Python Celery 5.2: apt-get install -y python3-celery"
              + " (bash .ci/run does)");
    }
    try {
      Path log = Files.createTempFile(Path.of("target"), "celery-", ".log");
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.directory(Path.of(System.getProperty("lovage.python.dir")).toFile());
      builder.environment().put("RABBITMQ_URI", RabbitFixture.uri());
      builder.environment().put("LOVAGE_QUEUE", queue);
      builder.environment().put("LOVAGE_QUEUE_TYPE", queueType);
      builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
      builder.environment().putAll(settings);
      builder.redirectErrorStream(true).redirectOutput(log.toFile());
      return new PythonCelery(builder.start(), log);
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + command, e);
    }
  }

  String output() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
