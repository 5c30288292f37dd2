package io.lovage.bench;

import io.lovage.TaskClient;
import io.lovage.broker.BrokerSettings;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.schedule.Scheduler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What every workload shares: the profile, where the jars are, the broker, the child processes.
 * Closing it stops every process the bench started and deletes every queue and schedule it used.
 */
final class BenchContext implements AutoCloseable {
  /**
   * Prefetch for every consumer whose prefetch the bench sets: Lovage workers ({@code
   * LOVAGE_PREFETCH}), PerfTest ({@code -q}) and Celery (concurrency × prefetch multiplier). It is
   * about what a Lovage worker derives by default (IO 200 + CPU cores).
   */
  static final int PREFETCH = 200;

  /** Unconfirmed publishes the bench keeps in flight, for Lovage and PerfTest alike. */
  static final int CONFIRM_WINDOW = 2_000;

  private final Profile profile;
  private final Path repo;
  private final String rabbitUri;
  private final Processes processes;
  private final BrokerQueues queues;
  private RabbitBroker broker;
  private final Map<QueueType, TaskClient> clients = new EnumMap<>(QueueType.class);
  private final Set<String> schedules = ConcurrentHashMap.newKeySet();

  BenchContext(Profile profile, Path repo, String rabbitUri) {
    this.profile = profile;
    this.repo = repo;
    this.rabbitUri = rabbitUri;
    this.processes = new Processes(cleared(repo.resolve("bench/target/logs")));
    this.queues = new BrokerQueues(rabbitUri);
    for (Path jar : java.util.List.of(workerJar(), producerJar())) {
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException(
            "no " + jar + ": build the jars first (bench/run.sh does: ./mvnw -DskipTests package)");
      }
    }
  }

  /** The logs of this run only: the previous run's would be mistaken for this one's. */
  private static Path cleared(Path dir) {
    try {
      if (Files.isDirectory(dir)) {
        try (var files = Files.list(dir)) {
          for (Path file : files.toList()) {
            Files.deleteIfExists(file);
          }
        }
      }
      return dir;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot clear " + dir, e);
    }
  }

  Profile profile() {
    return profile;
  }

  Path repo() {
    return repo;
  }

  String rabbitUri() {
    return rabbitUri;
  }

  Processes processes() {
    return processes;
  }

  BrokerQueues queues() {
    return queues;
  }

  Path workerJar() {
    return repo.resolve("worker/target/lovage-worker.jar");
  }

  Path producerJar() {
    return repo.resolve("producer/target/lovage-producer.jar");
  }

  Path perfTestClasspath() {
    return repo.resolve("bench/target/tools/perf-test");
  }

  Path celeryDir() {
    return repo.resolve("bench/celery");
  }

  /** The JVM the bench runs on, for the JVMs it starts. */
  Path java() {
    return Path.of(System.getProperty("java.home"), "bin", "java");
  }

  /**
   * Remembers a periodic task the bench created, for {@link #deleteSchedules()}: left behind, it
   * would be run by whichever scheduler leads on this broker, for good.
   */
  void usedSchedule(String name) {
    schedules.add(name);
  }

  synchronized RabbitBroker broker() {
    if (broker == null) {
      broker =
          RabbitBroker.connect(
              BrokerSettings.of(rabbitUri, "lovage-bench")
                  .withPublishTimeout(Duration.ofSeconds(30)));
    }
    return broker;
  }

  /** A client that declares the queues it sends to as {@code type}. */
  synchronized TaskClient client(QueueType type) {
    return clients.computeIfAbsent(
        type, t -> new TaskClient(broker(), "lovage-bench", t, Clock.systemUTC()));
  }

  /**
   * Deletes the schedules the bench created, all at once: it appends the deletions to the schedules
   * stream as any replica would, so it needs no producer (it also runs on close, after Ctrl-C).
   */
  void deleteSchedules() {
    if (schedules.isEmpty()) {
      return;
    }
    System.out.printf("  deleting %,d schedules%n", schedules.size());
    try (Scheduler scheduler =
        new Scheduler(broker(), client(QueueType.QUORUM), Clock.systemUTC())) {
      CompletableFuture.allOf(
              schedules.stream().map(scheduler::delete).toArray(CompletableFuture[]::new))
          .get(60, TimeUnit.SECONDS);
      schedules.clear();
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      System.out.println("  could not delete the schedules " + schedules + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public synchronized void close() {
    processes.close();
    deleteSchedules();
    clients.values().forEach(TaskClient::close);
    clients.clear();
    queues.deleteAll();
    queues.close();
    if (broker != null) {
      broker.close();
      broker = null;
    }
  }
}
