package io.lovage.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Starts the child processes of the bench (workers, producer, Celery, PerfTest, wrk) with their
 * output in a log file each, and stops them: gracefully first (SIGTERM), then by force, their own
 * children included (Celery's prefork pool). {@link #close()} stops whatever is still running; it
 * also runs on Ctrl-C through the bench's shutdown hook.
 */
final class Processes implements AutoCloseable {
  private static final Duration GRACE = Duration.ofSeconds(20);

  private final Path logDir;
  private final List<Child> running = new CopyOnWriteArrayList<>();
  private int started;
  private boolean closed;

  Processes(Path logDir) {
    this.logDir = logDir;
  }

  /** A running child process and the file its output goes to. */
  record Child(String name, Process process, Path log) {
    boolean isAlive() {
      return process.isAlive();
    }

    /** The last lines of its output, for error messages. */
    String tail(int lines) {
      try {
        List<String> all = Files.readAllLines(log);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
      } catch (IOException | java.io.UncheckedIOException e) {
        return "(no output: " + e.getMessage() + ")";
      }
    }

    String output() {
      try {
        return Files.readString(log);
      } catch (IOException | java.io.UncheckedIOException e) {
        return "";
      }
    }
  }

  synchronized Child start(String name, List<String> command, Map<String, String> env, Path dir) {
    if (closed) {
      // Ctrl-C: the shutdown hook has stopped everything; the bench's main thread may not know yet.
      throw new IllegalStateException("not starting " + name + ": the bench is stopping");
    }
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve(String.format("%02d-%s.log", ++started, name));
      ProcessBuilder builder = new ProcessBuilder(command);
      if (dir != null) {
        builder.directory(dir.toFile());
      }
      // Only the settings given here: a LOVAGE_API_KEY or LOVAGE_QUEUES of the caller's shell
      // would change what is measured.
      builder
          .environment()
          .keySet()
          .removeIf(key -> key.startsWith("LOVAGE_") || key.startsWith("MICRONAUT_"));
      builder.environment().putAll(env);
      builder.redirectErrorStream(true).redirectOutput(log.toFile());
      Child child = new Child(name, builder.start(), log);
      running.add(child);
      return child;
    } catch (IOException e) {
      throw new IllegalStateException("cannot start " + name + ": " + command, e);
    }
  }

  /**
   * Runs a command to its end (PerfTest, wrk) and answers its output; fails if it does not finish
   * within {@code timeout} or exits non-zero.
   */
  String run(String name, List<String> command, Map<String, String> env, Duration timeout) {
    Child child = start(name, command, env, null);
    try {
      if (!child.process().waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        stop(child);
        throw new IllegalStateException(
            name + " did not finish within " + timeout + ":\n" + child.tail(20));
      }
      running.remove(child);
      if (child.process().exitValue() != 0) {
        throw new IllegalStateException(
            name + " exited with " + child.process().exitValue() + ":\n" + child.tail(20));
      }
      return child.output();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop(child);
      throw new IllegalStateException("interrupted while " + name + " ran", e);
    }
  }

  /** SIGTERM, then SIGKILL after the grace, to the process and everything it started. */
  void stop(Child child) {
    running.remove(child);
    Process process = child.process();
    // Collected before the parent goes: once it is gone, its children are reparented and lost.
    List<ProcessHandle> descendants = new ArrayList<>(process.descendants().toList());
    process.destroy();
    try {
      if (!process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        System.out.println("  " + child.name() + " did not stop within " + GRACE + ": killing it");
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    descendants.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  /** Stops every child still running, all at once. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
    }
    List<Thread> stopping =
        running.stream().map(child -> Thread.ofVirtual().start(() -> stop(child))).toList();
    for (Thread thread : stopping) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
