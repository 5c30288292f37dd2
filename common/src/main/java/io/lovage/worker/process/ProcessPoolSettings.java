package io.lovage.worker.process;

import io.lovage.TaskKind;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How a worker's process pool runs: between {@code min} and {@code max} child JVMs, each running
 * one task at a time, replaced after {@code maxTasksPerChild} tasks or once its resident memory is
 * above {@code maxMemoryPerChild} (Celery's prefork pool with {@code --autoscale=max,min}).
 *
 * <pre>{@code
 * ProcessPoolSettings.DEFAULT.withChildren(1, 4).withMaxTasksPerChild(100).withMaxMemoryPerChild(512 << 20)
 * }</pre>
 *
 * @param kinds the kinds of task that run in child processes: {@link TaskKind#PROCESS} ({@code
 *     LOVAGE_POOL=kind}), or every kind ({@code LOVAGE_POOL=process})
 * @param min children kept running even when idle
 * @param max children at most: tasks of the pool running at once
 * @param maxTasksPerChild tasks after which a child is replaced, or 0 for no limit
 * @param maxMemoryPerChild resident bytes above which a child is replaced after its task, or 0 for
 *     no limit (read from {@code /proc/<pid>/status}; skipped where there is none)
 * @param idleTimeout how long a child above {@code min} may wait for a task before it is stopped
 * @param taskModules {@link io.lovage.TaskModule} classes a child creates (public, no-argument
 *     constructor) to know its tasks, besides those in {@code META-INF/services}
 * @param jvmOptions options for the child JVMs, e.g. {@code -Xmx256m}
 */
public record ProcessPoolSettings(
    Set<TaskKind> kinds,
    int min,
    int max,
    int maxTasksPerChild,
    long maxMemoryPerChild,
    Duration idleTimeout,
    List<String> taskModules,
    List<String> jvmOptions) {

  public static final int DEFAULT_MIN = 1;
  public static final int DEFAULT_MAX = Runtime.getRuntime().availableProcessors();

  /** Celery's autoscaler keeps an idle process this long before it scales down. */
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Only {@link TaskKind#PROCESS} tasks in child processes, one to {@link #DEFAULT_MAX} of them.
   */
  public static final ProcessPoolSettings DEFAULT =
      new ProcessPoolSettings(
          EnumSet.of(TaskKind.PROCESS),
          DEFAULT_MIN,
          DEFAULT_MAX,
          0,
          0,
          DEFAULT_IDLE_TIMEOUT,
          List.of(),
          List.of());

  public ProcessPoolSettings {
    kinds = Set.copyOf(kinds);
    if (!kinds.contains(TaskKind.PROCESS)) {
      throw new IllegalArgumentException("the process pool runs PROCESS tasks, got " + kinds);
    }
    if (max < 1 || min < 0 || min > max) {
      throw new IllegalArgumentException(
          "process pool children need 0 <= min <= max and max >= 1, got min="
              + min
              + " max="
              + max);
    }
    if (maxTasksPerChild < 0 || maxMemoryPerChild < 0) {
      throw new IllegalArgumentException(
          "maxTasksPerChild and maxMemoryPerChild must be >= 0 (0: no limit)");
    }
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idleTimeout must be positive, got " + idleTimeout);
    }
    taskModules = List.copyOf(taskModules);
    jvmOptions = List.copyOf(jvmOptions);
  }

  /**
   * {@code LOVAGE_POOL}: {@code kind} (or blank) runs each task in the pool of its kind, {@code
   * process} runs every task in a child process.
   */
  public static Set<TaskKind> parsePool(String pool) {
    return switch (pool == null ? "" : pool.trim().toLowerCase(Locale.ROOT)) {
      case "", "kind" -> EnumSet.of(TaskKind.PROCESS);
      case "process" -> EnumSet.allOf(TaskKind.class);
      default ->
          throw new IllegalArgumentException(
              "LOVAGE_POOL must be 'kind' (each task in the pool of its kind) or 'process' (every"
                  + " task in a child process), got '"
                  + pool
                  + "'");
    };
  }

  /**
   * A size with its unit, as for the JVM's {@code -Xmx}: {@code 512m}, {@code 2g}, {@code 300000k}
   * (powers of 1024); blank is 0 (no limit). A bare number is refused: Celery counts this setting
   * in KiB, the JVM in bytes, and a guess could be off by 1024.
   */
  public static long parseBytes(String name, String text) {
    String value = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (value.isEmpty()) {
      return 0;
    }
    int shift =
        switch (value.charAt(value.length() - 1)) {
          case 'k' -> 10;
          case 'm' -> 20;
          case 'g' -> 30;
          default -> -1;
        };
    String digits = value.substring(0, value.length() - 1);
    if (shift < 0 || !digits.matches("\\d{1,9}")) {
      throw new IllegalArgumentException(
          name + " must be a size with a unit, e.g. 512m, 2g or 300000k; got '" + text + "'");
    }
    return Long.parseLong(digits) << shift;
  }

  public ProcessPoolSettings withKinds(Set<TaskKind> newKinds) {
    return new ProcessPoolSettings(
        newKinds,
        min,
        max,
        maxTasksPerChild,
        maxMemoryPerChild,
        idleTimeout,
        taskModules,
        jvmOptions);
  }

  public ProcessPoolSettings withChildren(int newMin, int newMax) {
    return new ProcessPoolSettings(
        kinds,
        newMin,
        newMax,
        maxTasksPerChild,
        maxMemoryPerChild,
        idleTimeout,
        taskModules,
        jvmOptions);
  }

  public ProcessPoolSettings withMaxTasksPerChild(int tasks) {
    return new ProcessPoolSettings(
        kinds, min, max, tasks, maxMemoryPerChild, idleTimeout, taskModules, jvmOptions);
  }

  public ProcessPoolSettings withMaxMemoryPerChild(long bytes) {
    return new ProcessPoolSettings(
        kinds, min, max, maxTasksPerChild, bytes, idleTimeout, taskModules, jvmOptions);
  }

  public ProcessPoolSettings withIdleTimeout(Duration timeout) {
    return new ProcessPoolSettings(
        kinds, min, max, maxTasksPerChild, maxMemoryPerChild, timeout, taskModules, jvmOptions);
  }

  public ProcessPoolSettings withTaskModules(List<String> modules) {
    return new ProcessPoolSettings(
        kinds, min, max, maxTasksPerChild, maxMemoryPerChild, idleTimeout, modules, jvmOptions);
  }

  public ProcessPoolSettings withJvmOptions(List<String> options) {
    return new ProcessPoolSettings(
        kinds, min, max, maxTasksPerChild, maxMemoryPerChild, idleTimeout, taskModules, options);
  }
}
