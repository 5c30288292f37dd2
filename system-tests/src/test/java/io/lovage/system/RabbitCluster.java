package io.lovage.system;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The three-node RabbitMQ cluster of {@code .ci/rabbitmq-cluster} (nodes rabbit-c1..c3 on AMQP
 * ports 5681..5683), beside the default node: started and stopped by a test, its nodes killed and
 * restarted one by one.
 */
final class RabbitCluster implements AutoCloseable {
  static final int NODES = 3;

  private final Path script;

  private RabbitCluster(Path script) {
    this.script = script;
  }

  /** Whether this machine can run the cluster: the script and RabbitMQ's server are there. */
  static boolean runnable() {
    return Files.isExecutable(script()) && Files.isExecutable(Path.of("/usr/sbin/rabbitmq-server"));
  }

  /**
   * Whether the tests run against this machine's own RabbitMQ, whose version the cluster's nodes
   * have. Against another broker (CI's second pass, RabbitMQ 4.0 in a chroot, named by {@code
   * LOVAGE_TEST_BROKER_CTL}) the cluster would still be the same 3.10 nodes: the first pass ran it.
   */
  static boolean sameVersionAsTheTestBroker() {
    String other = System.getenv("LOVAGE_TEST_BROKER_CTL");
    return other == null || other.isBlank();
  }

  /** Starts the three nodes from empty and joins them (about 40 s here). */
  static RabbitCluster start() {
    RabbitCluster cluster = new RabbitCluster(script());
    cluster.run(180, "stop"); // whatever an earlier run that was killed left behind
    cluster.run(180, "start");
    return cluster;
  }

  private static Path script() {
    return Path.of(System.getProperty("lovage.repository", ".."), ".ci", "rabbitmq-cluster");
  }

  /** What a worker or producer needs to use the cluster: every node, credentials from the URI. */
  Map<String, String> env() {
    return Map.of(
        "RABBITMQ_URI", "amqp://guest:guest@localhost:5681/%2F",
        "RABBITMQ_ADDRESSES", "localhost:5681,localhost:5682,localhost:5683",
        // Not the default node's 5552, which has streams of the same names.
        "RABBITMQ_STREAM_ADDRESSES", "localhost:5561,localhost:5562,localhost:5563",
        "LOVAGE_MANAGEMENT_URI", "http://guest:guest@localhost:15681");
  }

  /** The node (1..3) that leads a queue, asked of any node that answers. */
  Optional<Integer> leaderOf(String queue) {
    for (int node = 1; node <= NODES; node++) {
      Optional<String> listed =
          tryRun(20, "ctl", String.valueOf(node), "list_queues", "name", "leader");
      if (listed.isEmpty()) {
        continue;
      }
      for (String line : listed.get().lines().toList()) {
        String[] fields = line.split("\t");
        if (fields.length == 2 && fields[0].equals(queue)) {
          return Optional.of(Integer.parseInt(fields[1].replaceAll("^rabbit-c(\\d)@.*$", "$1")));
        }
      }
    }
    return Optional.empty();
  }

  /**
   * What the nodes other than {@code lost} say of a queue or stream: its type, leader, members,
   * online members and messages, one line per node that answers.
   */
  String describe(String queue, int lost) {
    StringBuilder said = new StringBuilder();
    for (int node = 1; node <= NODES; node++) {
      if (node == lost) {
        continue;
      }
      String answer =
          tryRun(
                  20,
                  "ctl",
                  String.valueOf(node),
                  "list_queues",
                  "name",
                  "type",
                  "leader",
                  "members",
                  "online",
                  "messages")
              .map(
                  listed ->
                      listed
                          .lines()
                          .filter(line -> line.startsWith(queue + "\t"))
                          .findFirst()
                          .orElse("not listed"))
              .orElse("no answer");
      said.append("rabbit-c").append(node).append(": ").append(answer).append("; ");
    }
    return said.toString();
  }

  /**
   * The node (1..3) each worker's consuming connection is on, by the worker's pid: from the
   * connections' server ports and names ({@code lovage-<pid>@<host> consume}).
   */
  Map<Long, Integer> consumingNodes(List<AppProcess> workers) {
    String listed =
        run(20, "ctl", "1", "list_connections", "port", "client_properties", "--formatter", "json");
    Map<Long, Integer> nodes = new java.util.HashMap<>();
    for (var connection : io.lovage.protocol.Json.MAPPER.readTree(listed)) {
      String properties = connection.get("client_properties").toString();
      for (AppProcess worker : workers) {
        if (properties.contains(worker.workerNamePrefix())
            && properties.matches("(?s).*" + worker.workerNamePrefix() + "[^\"]* consume\".*")) {
          nodes.put(worker.pid(), connection.get("port").asInt() - 5680);
        }
      }
    }
    return nodes;
  }

  /** SIGKILLs node {@code node}, as a lost machine. */
  void kill(int node) {
    run(30, "kill", String.valueOf(node));
  }

  /** Starts node {@code node} again; it rejoins with its data. */
  void restart(int node) {
    run(180, "restart", String.valueOf(node));
  }

  /** The nodes that node {@code asked} counts as running. */
  List<String> runningNodes(int asked) {
    String status =
        tryRun(20, "ctl", String.valueOf(asked), "cluster_status", "--formatter", "json")
            .orElse("");
    java.util.regex.Matcher running =
        java.util.regex.Pattern.compile("\"running_nodes\":\\[([^]]*)]").matcher(status);
    return running.find() ? List.of(running.group(1).replace("\"", "").split(",")) : List.of();
  }

  /** Stops the three nodes and deletes their data: CI leaves no node running. */
  @Override
  public void close() {
    run(120, "stop");
  }

  private String run(int seconds, String... args) {
    return tryRun(seconds, args)
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "rabbitmq-cluster " + String.join(" ", args) + " failed or timed out"));
  }

  private Optional<String> tryRun(int seconds, String... args) {
    List<String> command = new java.util.ArrayList<>(List.of(script.toString()));
    command.addAll(List.of(args));
    try {
      // Output to a file, not a pipe: a hung rabbitmqctl must not block the reader past the
      // deadline.
      Path output = Files.createTempFile("rabbitmq-cluster-", ".out");
      try {
        Process process =
            new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          return Optional.empty();
        }
        return process.exitValue() == 0
            ? Optional.of(Files.readString(output, StandardCharsets.UTF_8))
            : Optional.empty();
      } finally {
        Files.deleteIfExists(output);
      }
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }
}
