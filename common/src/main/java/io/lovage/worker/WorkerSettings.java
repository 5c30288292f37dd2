package io.lovage.worker;

import io.lovage.ConcurrencyLimit;
import io.lovage.RateLimit;
import io.lovage.TaskKind;
import io.lovage.broker.QueueType;
import io.lovage.security.MessageSecurity;
import io.lovage.worker.process.ProcessPoolSettings;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How a worker runs.
 *
 * @param name the worker's name in events and logs, like Celery's {@code celery@host}
 * @param queues the task queues it consumes, each with a weight: its share of the prefetch
 * @param ioConcurrency IO tasks running at once, each on a virtual thread
 * @param cpuConcurrency CPU tasks running at once, each on a platform thread
 * @param shutdownGrace how long running tasks may take to finish when the worker stops
 * @param queueType the type of the queues the worker creates when they do not exist yet
 * @param prefetch a fixed prefetch per queue, or 0 to derive it from the pools (see {@link
 *     #prefetch(WeightedQueue)}); 1 keeps a task that crashes its worker from taking the tasks
 *     prefetched with it along (they would be redelivered, and count toward the poison limit)
 * @param resultMaxBytes the largest result a task may return, as JSON: a larger one makes the task
 *     a FAILURE with {@code ResultTooLarge} (results travel in events and replies, and are kept in
 *     every producer's index)
 * @param processes the process pool: which kinds of task run in child processes, how many
 * @param rateLimits rate limits by task name, in place of those the tasks were registered with
 *     ({@link RateLimit#NONE} lifts one); each applies to this worker alone, as in Celery
 * @param concurrencyLimits concurrency limits by task name, in place of those the tasks were
 *     registered with ({@link ConcurrencyLimit#NONE} lifts one); each is shared by all workers, so
 *     every worker that runs the task should be given the same
 * @param security whether the worker runs signed messages only (and which signers it trusts), and
 *     whether it signs the messages it sends (retries, chain steps, callbacks)
 */
public record WorkerSettings(
    String name,
    List<WeightedQueue> queues,
    int ioConcurrency,
    int cpuConcurrency,
    Duration shutdownGrace,
    QueueType queueType,
    int prefetch,
    int resultMaxBytes,
    ProcessPoolSettings processes,
    Map<String, RateLimit> rateLimits,
    Map<String, ConcurrencyLimit> concurrencyLimits,
    MessageSecurity security) {

  public static final int DEFAULT_IO_CONCURRENCY = 200;
  public static final int DEFAULT_CPU_CONCURRENCY = Runtime.getRuntime().availableProcessors();
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);

  /** The default {@link #resultMaxBytes}: 1 MiB. */
  public static final int DEFAULT_RESULT_MAX_BYTES = 1 << 20;

  /** A queue and its weight: {@code high:3,default:1} gives high three quarters of the prefetch. */
  public record WeightedQueue(String name, int weight) {
    public WeightedQueue {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("a queue needs a name");
      }
      if (weight < 1) {
        throw new IllegalArgumentException("queue weight must be at least 1, got " + weight);
      }
    }
  }

  /** Settings with the default process pool: only {@link TaskKind#PROCESS} tasks run in it. */
  public WorkerSettings(
      String name,
      List<WeightedQueue> queues,
      int ioConcurrency,
      int cpuConcurrency,
      Duration shutdownGrace,
      QueueType queueType,
      int prefetch,
      int resultMaxBytes) {
    this(
        name,
        queues,
        ioConcurrency,
        cpuConcurrency,
        shutdownGrace,
        queueType,
        prefetch,
        resultMaxBytes,
        ProcessPoolSettings.DEFAULT);
  }

  /** Settings without rate limits of their own: tasks keep those they were registered with. */
  public WorkerSettings(
      String name,
      List<WeightedQueue> queues,
      int ioConcurrency,
      int cpuConcurrency,
      Duration shutdownGrace,
      QueueType queueType,
      int prefetch,
      int resultMaxBytes,
      ProcessPoolSettings processes) {
    this(
        name,
        queues,
        ioConcurrency,
        cpuConcurrency,
        shutdownGrace,
        queueType,
        prefetch,
        resultMaxBytes,
        processes,
        Map.of());
  }

  /**
   * Settings without concurrency limits of their own: tasks keep those they were registered with.
   */
  public WorkerSettings(
      String name,
      List<WeightedQueue> queues,
      int ioConcurrency,
      int cpuConcurrency,
      Duration shutdownGrace,
      QueueType queueType,
      int prefetch,
      int resultMaxBytes,
      ProcessPoolSettings processes,
      Map<String, RateLimit> rateLimits) {
    this(
        name,
        queues,
        ioConcurrency,
        cpuConcurrency,
        shutdownGrace,
        queueType,
        prefetch,
        resultMaxBytes,
        processes,
        rateLimits,
        Map.of());
  }

  /** Settings that neither sign nor require signatures ({@link MessageSecurity#NONE}). */
  public WorkerSettings(
      String name,
      List<WeightedQueue> queues,
      int ioConcurrency,
      int cpuConcurrency,
      Duration shutdownGrace,
      QueueType queueType,
      int prefetch,
      int resultMaxBytes,
      ProcessPoolSettings processes,
      Map<String, RateLimit> rateLimits,
      Map<String, ConcurrencyLimit> concurrencyLimits) {
    this(
        name,
        queues,
        ioConcurrency,
        cpuConcurrency,
        shutdownGrace,
        queueType,
        prefetch,
        resultMaxBytes,
        processes,
        rateLimits,
        concurrencyLimits,
        MessageSecurity.NONE);
  }

  public WorkerSettings {
    queues = List.copyOf(queues);
    java.util.Objects.requireNonNull(security, "security");
    rateLimits = Collections.unmodifiableMap(new LinkedHashMap<>(rateLimits));
    concurrencyLimits = Collections.unmodifiableMap(new LinkedHashMap<>(concurrencyLimits));
    java.util.Objects.requireNonNull(processes, "processes");
    if (queues.isEmpty()) {
      throw new IllegalArgumentException("a worker needs at least one queue");
    }
    if (resultMaxBytes < 1) {
      throw new IllegalArgumentException(
          "resultMaxBytes must be at least 1, got " + resultMaxBytes);
    }
    if (ioConcurrency < 1 || cpuConcurrency < 1) {
      throw new IllegalArgumentException(
          "concurrency must be at least 1, got io=" + ioConcurrency + " cpu=" + cpuConcurrency);
    }
  }

  /** Settings for tests and embedding: {@code concurrency} IO tasks, as many CPU tasks as cores. */
  public static WorkerSettings of(List<String> queues, int concurrency) {
    return new WorkerSettings(
        defaultName(),
        queues.stream().map(q -> new WeightedQueue(q, 1)).toList(),
        concurrency,
        Math.min(concurrency, DEFAULT_CPU_CONCURRENCY),
        DEFAULT_SHUTDOWN_GRACE,
        QueueType.QUORUM,
        0,
        DEFAULT_RESULT_MAX_BYTES,
        ProcessPoolSettings.DEFAULT,
        Map.of(),
        Map.of());
  }

  public WorkerSettings withProcesses(ProcessPoolSettings newProcesses) {
    return new WorkerSettings(
        name,
        queues,
        ioConcurrency,
        cpuConcurrency,
        shutdownGrace,
        queueType,
        prefetch,
        resultMaxBytes,
        newProcesses,
        rateLimits,
        concurrencyLimits,
        security);
  }

  /** These settings with rate limits by task name, in place of the tasks' own. */
  public WorkerSettings withRateLimits(Map<String, RateLimit> newRateLimits) {
    return new WorkerSettings(
        name,
        queues,
        ioConcurrency,
        cpuConcurrency,
        shutdownGrace,
        queueType,
        prefetch,
        resultMaxBytes,
        processes,
        newRateLimits,
        concurrencyLimits,
        security);
  }

  /** These settings with concurrency limits by task name, in place of the tasks' own. */
  public WorkerSettings withConcurrencyLimits(Map<String, ConcurrencyLimit> newLimits) {
    return new WorkerSettings(
        name,
        queues,
        ioConcurrency,
        cpuConcurrency,
        shutdownGrace,
        queueType,
        prefetch,
        resultMaxBytes,
        processes,
        rateLimits,
        newLimits,
        security);
  }

  /**
   * These settings with signed messages: the worker runs only those its security opens, and signs
   * what it sends with it.
   */
  public WorkerSettings withSecurity(MessageSecurity newSecurity) {
    return new WorkerSettings(
        name,
        queues,
        ioConcurrency,
        cpuConcurrency,
        shutdownGrace,
        queueType,
        prefetch,
        resultMaxBytes,
        processes,
        rateLimits,
        concurrencyLimits,
        newSecurity);
  }

  /**
   * {@code LOVAGE_RATE_LIMITS} syntax: {@code billing.sms=50/s@global,reports.build=10/m}, each rate
   * as Celery writes it ({@link RateLimit#parse}), per worker, or for the whole fleet with {@code
   * @global}; {@code =0} lifts a task's registered limit.
   *
   * @throws IllegalArgumentException naming the entry that is not {@code task=rate[@global]}
   */
  public static Map<String, RateLimit> parseRateLimits(String text) {
    return parseByTask(
        "LOVAGE_RATE_LIMITS",
        "task=rate or task=rate@global, e.g. billing.sms=50/s@global",
        text,
        rate ->
            rate.endsWith("@global")
                ? RateLimit.parse(rate.substring(0, rate.length() - "@global".length())).global()
                : RateLimit.parse(rate));
  }

  /**
   * {@code LOVAGE_CONCURRENCY_LIMITS} syntax: {@code billing.charge=2:customer_id,reports.build=1},
   * each {@code N} or {@code N:argument} ({@link ConcurrencyLimit#parse}); {@code =0} lifts one.
   *
   * @throws IllegalArgumentException naming the entry that is not {@code task=N[:argument]}
   */
  public static Map<String, ConcurrencyLimit> parseConcurrencyLimits(String text) {
    return parseByTask(
        "LOVAGE_CONCURRENCY_LIMITS",
        "task=N or task=N:argument, e.g. billing.charge=2:customer_id",
        text,
        ConcurrencyLimit::parse);
  }

  /** {@code task=value,task=value}: each value read by {@code parse}, errors naming the setting. */
  private static <T> Map<String, T> parseByTask(
      String setting, String expected, String text, java.util.function.Function<String, T> parse) {
    Map<String, T> values = new LinkedHashMap<>();
    if (text == null) {
      return values;
    }
    for (String entry : text.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      int equals = entry.indexOf('=');
      String task = equals < 0 ? "" : entry.substring(0, equals).trim();
      if (task.isEmpty()) {
        throw new IllegalArgumentException(
            setting + ": expected " + expected + ", got '" + entry.trim() + "'");
      }
      try {
        values.put(task, parse.apply(entry.substring(equals + 1)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(setting + ": " + task + ": " + e.getMessage(), e);
      }
    }
    return values;
  }

  /** {@code LOVAGE_QUEUES} syntax: {@code high:3,default} (weight 1 when none is given). */
  public static List<WeightedQueue> parseQueues(String text) {
    return Arrays.stream(text.split(","))
        .map(String::trim)
        .filter(q -> !q.isEmpty())
        .map(
            q -> {
              int colon = q.lastIndexOf(':');
              if (colon > 0 && q.substring(colon + 1).matches("\\d+")) {
                return new WeightedQueue(
                    q.substring(0, colon), Integer.parseInt(q.substring(colon + 1)));
              }
              return new WeightedQueue(q, 1);
            })
        .toList();
  }

  public List<String> queueNames() {
    return queues.stream().map(WeightedQueue::name).toList();
  }

  /**
   * Deliveries the worker can run at once: the pools that some kind of task runs in. With {@code
   * LOVAGE_POOL=process} that is the process pool alone.
   */
  public int capacity() {
    return (processes.kinds().contains(TaskKind.IO) ? 0 : ioConcurrency)
        + (processes.kinds().contains(TaskKind.CPU) ? 0 : cpuConcurrency)
        + processes.max();
  }

  /**
   * The queue's prefetch: its weighted share of the capacity, so the worker never holds far more
   * messages than it can start.
   */
  public int prefetch(WeightedQueue queue) {
    return prefetch(queue, queues);
  }

  /**
   * The queue's prefetch when the worker consumes {@code consumed}: its weighted share of the
   * capacity among them (an urgent lane has as much as its queue, on top).
   */
  public int prefetch(WeightedQueue queue, List<WeightedQueue> consumed) {
    if (prefetch > 0) {
      return prefetch;
    }
    int total = consumed.stream().mapToInt(WeightedQueue::weight).sum();
    return Math.max(1, capacity() * queue.weight() / total);
  }

  /** {@code lovage-<pid>@<host>}: unique per worker JVM, also with several on one machine. */
  public static String defaultName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      host = "localhost";
    }
    return "lovage-" + ProcessHandle.current().pid() + "@" + host;
  }
}
