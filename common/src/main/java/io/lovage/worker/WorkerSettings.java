package io.lovage.worker;

import io.lovage.broker.QueueType;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;

/**
 * How a worker runs.
 *
 * @param name the worker's name in events and logs, like Celery's {@code celery@host}
 * @param queues the task queues it consumes
 * @param concurrency how many tasks run at once; also the prefetch of each queue
 * @param shutdownGrace how long running tasks may take to finish when the worker stops
 * @param queueType the type of the queues the worker creates when they do not exist yet
 */
public record WorkerSettings(
    String name,
    List<String> queues,
    int concurrency,
    Duration shutdownGrace,
    QueueType queueType) {

  public static final int DEFAULT_CONCURRENCY = 8;
  public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);

  public WorkerSettings {
    queues = List.copyOf(queues);
    if (queues.isEmpty()) {
      throw new IllegalArgumentException("a worker needs at least one queue");
    }
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
    }
  }

  public static WorkerSettings of(List<String> queues, int concurrency) {
    return new WorkerSettings(
        defaultName(), queues, concurrency, DEFAULT_SHUTDOWN_GRACE, QueueType.QUORUM);
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
