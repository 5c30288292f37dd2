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

  /**
   * More environment for the apps the bench starts on this broker: a cluster's {@code
   * RABBITMQ_ADDRESSES} and {@code RABBITMQ_STREAM_ADDRESSES}.
   */
  private final Map<String, String> brokerEnv;

  private final Processes processes;

  /** Whether closing stops the processes: not for a context on another broker ({@link #on}). */
  private final boolean ownsProcesses;

  private final java.util.List<Runnable> atClose =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final BrokerQueues queues;
  private RabbitBroker broker;
  private RabbitBroker verifyingBroker;
  private TaskClient verifyingClient;
  private final Map<QueueType, TaskClient> clients = new EnumMap<>(QueueType.class);
  private final Set<String> schedules = ConcurrentHashMap.newKeySet();

  BenchContext(Profile profile, Path repo, String rabbitUri) {
    this(profile, repo, rabbitUri, Map.of(), null);
  }

  private BenchContext(
      Profile profile,
      Path repo,
      String rabbitUri,
      Map<String, String> brokerEnv,
      Processes processes) {
    this.profile = profile;
    this.repo = repo;
    this.rabbitUri = rabbitUri;
    this.brokerEnv = Map.copyOf(brokerEnv);
    this.ownsProcesses = processes == null;
    this.processes =
        processes != null ? processes : new Processes(cleared(repo.resolve("bench/target/logs")));
    this.queues = new BrokerQueues(rabbitUri);
    for (Path jar : java.util.List.of(workerJar(), producerJar())) {
      if (!Files.isRegularFile(jar)) {
        throw new IllegalStateException(
            "no " + jar + ": build the jars first (bench/run.sh does: ./mvnw -DskipTests package)");
      }
    }
  }

  /**
   * The same bench on another broker, e.g. a cluster: {@code env} is what its apps need beside
   * {@code RABBITMQ_URI} ({@code RABBITMQ_ADDRESSES}, {@code RABBITMQ_STREAM_ADDRESSES}), which the
   * bench's own connections use too. It shares this context's processes (this one's close stops
   * them); closing it deletes its queues and closes its connections.
   */
  BenchContext on(String uri, Map<String, String> env) {
    return new BenchContext(profile, repo, uri, env, processes);
  }

  /** Environment for the apps started on this broker, beside {@code RABBITMQ_URI}. */
  Map<String, String> brokerEnv() {
    return brokerEnv;
  }

  /**
   * Something to undo when the bench ends, also on Ctrl-C (e.g. stopping a cluster it started),
   * after the processes stopped; it must be safe to run twice.
   */
  void atClose(Runnable undo) {
    atClose.add(undo);
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
                  .withAddresses(brokerEnv.get("RABBITMQ_ADDRESSES"))
                  .withStreams(null, brokerEnv.get("RABBITMQ_STREAM_ADDRESSES"))
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
   * A client that only checks the queues it sends to ({@code LOVAGE_TOPOLOGY=verify}), as a client
   * does with a queue someone else declared: the like-for-like rows' queue without priorities.
   */
  synchronized TaskClient verifyingClient() {
    if (verifyingClient == null) {
      verifyingBroker =
          RabbitBroker.connect(
              BrokerSettings.of(rabbitUri, "lovage-bench-verify")
                  .withAddresses(brokerEnv.get("RABBITMQ_ADDRESSES"))
                  .withTopology("verify")
                  .withPublishTimeout(Duration.ofSeconds(30)));
      verifyingClient =
          new TaskClient(verifyingBroker, "lovage-bench", QueueType.CLASSIC, Clock.systemUTC());
    }
    return verifyingClient;
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
    if (ownsProcesses) {
      processes.close();
    }
    deleteSchedules();
    clients.values().forEach(TaskClient::close);
    clients.clear();
    if (verifyingClient != null) {
      verifyingClient.close();
      verifyingBroker.close();
      verifyingClient = null;
      verifyingBroker = null;
    }
    queues.deleteAll();
    queues.close();
    if (broker != null) {
      broker.close();
      broker = null;
    }
    for (Runnable undo : atClose) {
      try {
        undo.run();
      } catch (RuntimeException e) {
        System.out.println("  at close: " + e);
      }
    }
  }
}
