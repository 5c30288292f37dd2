package io.lovage.bench;

import io.lovage.TaskClient;
import io.lovage.broker.QueueType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Workload 11: what replication costs. The no-op rows with results recorded on a quorum queue (as
 * workload 1 measures them, with its code), with 1, 2 and 4 worker JVMs, first on the single node
 * of {@code RABBITMQ_URI}, then on the three-node cluster of {@code .ci/rabbitmq-cluster} (started
 * for it, about 40 s, and stopped again), whose quorum queue and event stream keep three replicas;
 * and the cluster's rate over the single node's per JVM count. The cluster's nodes run on this
 * machine: they share its cores with each other, the workers and the bench.
 */
final class ClusterThroughput {
  static final String QUEUE = "bench.cluster.quorum";
  static final List<Integer> WORKERS = List.of(1, 2, 4);
  static final String SINGLE = ", single node";
  static final String CLUSTER = ", three-node cluster";
  private static final Path SERVER = Path.of("/usr/sbin/rabbitmq-server");
  private static final Duration CLUSTER_START = Duration.ofSeconds(180);
  private static final Duration CLUSTER_STOP = Duration.ofSeconds(60);

  private ClusterThroughput() {}

  static void run(BenchContext ctx, Rows rows) {
    int tasks = ctx.profile().clusterTasks();
    Map<Integer, Row> single = measureAll(ctx, rows, SINGLE, tasks);
    Map<Integer, Row> cluster = new LinkedHashMap<>();
    Path script = ctx.repo().resolve(".ci/rabbitmq-cluster");
    String unavailable =
        !Files.isRegularFile(script)
            ? "no " + script + " to start a three-node cluster with"
            : !Files.isExecutable(SERVER)
                ? "no " + SERVER + " to run a three-node cluster's nodes on this machine"
                : null;
    if (unavailable != null) {
      System.out.println("  " + unavailable + ": the cluster rows are not measured here");
      for (int workers : WORKERS) {
        cluster.put(
            workers,
            rows.add(
                Row.notMeasuredHere(
                    name(workers, CLUSTER, tasks), "tasks/s", Goal.NONE, unavailable)));
      }
    } else {
      cluster = onCluster(ctx, rows, script, tasks);
    }
    for (int workers : WORKERS) {
      rows.add(
          Row.ratio(
              String.format(
                  "Cluster ÷ single node: no-op, %d worker JVM%s, quorum queue, results recorded"
                      + " (what three replicas cost)",
                  workers, workers == 1 ? "" : "s"),
              cluster.get(workers),
              single.get(workers),
              Goal.NONE));
    }
  }

  /** Starts the cluster, measures on it, and stops it again, also when a measurement failed. */
  private static Map<Integer, Row> onCluster(BenchContext ctx, Rows rows, Path script, int tasks) {
    AtomicBoolean stopped = new AtomicBoolean();
    Runnable stop =
        () -> {
          if (stopped.compareAndSet(false, true)) {
            System.out.println("  stopping the three-node cluster");
            try {
              script(ctx, script, "stop", CLUSTER_STOP);
            } catch (RuntimeException e) {
              System.out.println("  could not stop the cluster: " + e.getMessage());
            }
          }
        };
    // Ctrl-C: the bench's close stops the workers, then the cluster.
    ctx.atClose(stop);
    BenchContext onCluster = null;
    try {
      System.out.println("  starting the three-node cluster (.ci/rabbitmq-cluster start)");
      long started = System.nanoTime();
      // Whatever a run that was killed left behind first, as the cluster tests do.
      script(ctx, script, "stop", CLUSTER_STOP);
      script(ctx, script, "start", CLUSTER_START);
      Map<String, String> env = env(script(ctx, script, "env", Duration.ofSeconds(10)));
      System.out.printf("  cluster up in %.0f s: %s%n", (System.nanoTime() - started) / 1e9, env);
      onCluster = ctx.on(env.get("RABBITMQ_URI"), without(env, "RABBITMQ_URI"));
      return measureAll(onCluster, rows, CLUSTER, tasks);
    } catch (RuntimeException e) {
      System.out.println("  NOT MEASURED: the three-node cluster: " + e.getMessage());
      Map<Integer, Row> missing = new LinkedHashMap<>();
      for (int workers : WORKERS) {
        missing.put(
            workers,
            rows.add(
                Row.missing(
                    name(workers, CLUSTER, tasks),
                    "tasks/s",
                    Goal.NONE,
                    "on the three-node cluster: " + e.getMessage())));
      }
      return missing;
    } finally {
      if (onCluster != null) {
        onCluster.close();
      }
      stop.run();
    }
  }

  /** The rows with 1, 2 and 4 worker JVMs on the broker of {@code ctx}, started one by one. */
  private static Map<Integer, Row> measureAll(
      BenchContext ctx, Rows rows, String where, int tasks) {
    TaskClient client = ctx.client(QueueType.QUORUM);
    ctx.queues().usedTaskQueue(QUEUE);
    Map<String, String> settings = Map.of("LOVAGE_PREFETCH", String.valueOf(BenchContext.PREFETCH));
    Map<Integer, Row> measured = new LinkedHashMap<>();
    String prefix = "worker-" + (where.equals(CLUSTER) ? "cluster" : "single");
    try (NoopThroughput.Workers workers =
        new NoopThroughput.Workers(ctx, client, prefix, QUEUE, settings)) {
      for (int count : WORKERS) {
        measured.put(
            count,
            rows.measure(
                name(count, where, tasks),
                "tasks/s",
                Goal.NONE,
                () -> {
                  Rows.Measured blast =
                      NoopThroughput.measure(
                          ctx, client, QUEUE, workers.first(count), true, tasks, "quorum");
                  Map<String, Object> raw = new LinkedHashMap<>(blast.raw());
                  raw.put("broker", where.substring(2));
                  raw.put("rabbitmqUri", ctx.rabbitUri().replaceAll("//[^@]*@", "//"));
                  raw.putAll(ctx.brokerEnv());
                  return new Rows.Measured(blast.value(), blast.note(), raw);
                }));
      }
    }
    return measured;
  }

  static String name(int workers, String where, int tasks) {
    return NoopThroughput.name(workers, "quorum", true, where, tasks);
  }

  /**
   * Runs {@code .ci/rabbitmq-cluster <command>} and answers its output; fails if it exits non-zero
   * or runs longer than {@code timeout}. Not one of the bench's processes: it also runs at close,
   * after they are stopped.
   */
  private static String script(BenchContext ctx, Path script, String command, Duration timeout) {
    Path log = ctx.repo().resolve("bench/target/logs/rabbitmq-cluster-" + command + ".log");
    try {
      Files.createDirectories(log.getParent());
      Process process =
          new ProcessBuilder("bash", script.toString(), command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        throw new IllegalStateException(
            ".ci/rabbitmq-cluster " + command + " did not finish within " + timeout);
      }
      String output = Files.readString(log);
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            ".ci/rabbitmq-cluster "
                + command
                + " exited with "
                + process.exitValue()
                + ": "
                + output.strip().lines().reduce((a, b) -> b).orElse("")
                + " (its output: "
                + log
                + ")");
      }
      return output;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run .ci/rabbitmq-cluster " + command + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: .ci/rabbitmq-cluster " + command, e);
    }
  }

  private static final Pattern EXPORT =
      Pattern.compile("^export ([A-Z_]+)=\"?([^\"]*)\"?$", Pattern.MULTILINE);

  /** The {@code export NAME="value"} lines of {@code .ci/rabbitmq-cluster env}. */
  static Map<String, String> env(String output) {
    Map<String, String> env = new LinkedHashMap<>();
    Matcher m = EXPORT.matcher(output);
    while (m.find()) {
      env.put(m.group(1), m.group(2));
    }
    for (String needed :
        List.of("RABBITMQ_URI", "RABBITMQ_ADDRESSES", "RABBITMQ_STREAM_ADDRESSES")) {
      if (!env.containsKey(needed)) {
        throw new IllegalStateException(
            ".ci/rabbitmq-cluster env did not give " + needed + ": " + output.strip());
      }
    }
    return env;
  }

  private static Map<String, String> without(Map<String, String> env, String key) {
    Map<String, String> copy = new LinkedHashMap<>(env);
    copy.remove(key);
    return copy;
  }
}
