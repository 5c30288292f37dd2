package io.lovage.testing;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.lovage.broker.BrokerSettings;
import io.lovage.broker.RabbitBroker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.rabbitmq.RabbitMQContainer;

/**
 * The one way integration tests reach a real RabbitMQ: the URI in {@code RABBITMQ_URI}, else a
 * Testcontainers broker when a Docker engine is there, else a failure that says how to get one.
 * Tests are never skipped for lack of a broker.
 */
public final class RabbitFixture {
  public static final String IMAGE = "rabbitmq:4.1-management";
  private static String uri;
  private static RabbitMQContainer container;

  private RabbitFixture() {}

  public static synchronized String uri() {
    if (uri != null) {
      return uri;
    }
    String fromEnv = System.getenv("RABBITMQ_URI");
    if (fromEnv != null && !fromEnv.isBlank()) {
      uri = fromEnv;
    } else if (dockerAvailable()) {
      container = new RabbitMQContainer(IMAGE);
      container.start();
      uri = container.getAmqpUrl();
    } else {
      throw new IllegalStateException(
          "Integration tests need a RabbitMQ broker. Either set RABBITMQ_URI, e.g."
              + " RABBITMQ_URI=amqp://guest:guest@localhost:5672/%2F after `apt-get install -y"
              + " rabbitmq-server && rabbitmq-server -detached`, or run a Docker engine so that"
              + " Testcontainers can start "
              + IMAGE
              + ". `bash .ci/run` does the former.");
    }
    return uri;
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Stops and starts the broker's RabbitMQ application ({@code rabbitmqctl stop_app}, {@code
   * start_app}): queues and streams survive, every connection is cut.
   */
  public static void restartBroker() {
    stopApp();
    startApp();
  }

  /**
   * Stops the broker's RabbitMQ application ({@code rabbitmqctl stop_app}): every connection is cut
   * and new ones are refused until {@link #startApp}. Where {@link #wholeNodeRestarts}, the whole
   * node stops instead.
   */
  public static void stopApp() {
    if (wholeNodeRestarts()) {
      rabbitmqctl("stop");
      return;
    }
    rabbitmqctl("stop_app");
  }

  /**
   * Whether the test broker's application is stopped and started by stopping and starting its whole
   * node ({@code LOVAGE_TEST_WHOLE_NODE_RESTARTS=true}, which {@code .ci/rabbitmq4 env} sets): on
   * RabbitMQ 4.0.5, {@code start_app} after {@code stop_app} fails ({@code resources_missing} for a
   * stream) or hangs for up to 120 s, where a whole-node restart takes about 10 s. For a client the
   * two look alike: connections cut, then refused until the broker is back.
   */
  static boolean wholeNodeRestarts() {
    return container == null
        && "true".equalsIgnoreCase(System.getenv("LOVAGE_TEST_WHOLE_NODE_RESTARTS"));
  }

  /**
   * Starts the broker's RabbitMQ application after {@code stop_app} and waits until it runs. On
   * RabbitMQ 4.0.5 {@code start_app} sometimes fails with mnesia still running after {@code
   * stop_app} (rabbit_prelaunch's assertion); the node is then stopped and started whole, as an
   * operator would, so that a test measures Lovage, not that bug.
   */
  public static void startApp() {
    if (wholeNodeRestarts()) {
      if (!nodeAnswers()) {
        try {
          // A node that runs with its application stopped (a bare stop_app) goes down first.
          rabbitmqctl("stop");
        } catch (IllegalStateException alreadyDown) {
          // the usual case: stopApp stopped the node
        }
        startNode(ProcessBuilder.Redirect.DISCARD, "");
      }
      return;
    }
    try {
      rabbitmqctl("start_app");
      rabbitmqctl("await_startup", "--timeout", "120");
      return;
    } catch (IllegalStateException e) {
      if (container != null) {
        throw e;
      }
      System.err.println("start_app failed, restarting the whole node: " + e.getMessage());
    }
    try {
      rabbitmqctl("stop");
    } catch (IllegalStateException alreadyDown) {
      // the node may be down already
    }
    startNode(ProcessBuilder.Redirect.DISCARD, "");
  }

  /**
   * Starts the whole RabbitMQ node ({@code rabbitmq-server -detached}) after it was stopped, as a
   * host reboot or an operator would, and waits until it answers; its output goes to {@code log}.
   * Needs the broker of {@code RABBITMQ_URI} on this machine.
   */
  public static void startNode(Path log) {
    startNode(ProcessBuilder.Redirect.to(log.toFile()), ", see " + log);
  }

  private static void startNode(ProcessBuilder.Redirect output, String seeLog) {
    List<String> command = brokerCommand("rabbitmq-server");
    command.add("-detached");
    try {
      ProcessBuilder start = new ProcessBuilder(command).redirectErrorStream(true);
      start.environment().remove("RABBITMQ_URI");
      start.redirectOutput(output).start().waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot run rabbitmq-server -detached: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    // await_startup fails at once on a node that has not registered yet: poll until it answers.
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (!nodeAnswers()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("RabbitMQ did not start within 120 s" + seeLog);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }

  /** Whether the node is up and its RabbitMQ application running. */
  public static boolean nodeAnswers() {
    try {
      rabbitmqctl("-q", "await_startup", "--timeout", "5");
      return true;
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /**
   * Runs {@code rabbitmqctl} against the test broker: on this machine when the broker of {@code
   * RABBITMQ_URI} is local, or in the Testcontainers container.
   */
  public static synchronized void rabbitmqctl(String... args) {
    uri();
    List<String> command =
        container != null ? new java.util.ArrayList<>() : brokerCommand("rabbitmqctl");
    if (container != null) {
      command.add("rabbitmqctl");
    }
    command.addAll(List.of(args));
    try {
      if (container != null) {
        var result = container.execInContainer(command.toArray(String[]::new));
        if (result.getExitCode() != 0) {
          throw new IllegalStateException(command + " failed: " + result.getStderr());
        }
        return;
      }
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(command + " failed: " + output);
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(
          "this test needs rabbitmqctl on this machine (the broker of RABBITMQ_URI must be"
              + " local) or a Testcontainers broker: "
              + e.getMessage(),
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A RabbitMQ command ({@code rabbitmqctl}, {@code rabbitmq-server}) for the local broker of
   * {@code RABBITMQ_URI}: run directly, or through the program named by {@code
   * LOVAGE_TEST_BROKER_CTL} when that broker lives elsewhere on this machine (.ci/rabbitmq4 runs
   * RabbitMQ 4 in a chroot that way).
   */
  public static List<String> brokerCommand(String program) {
    List<String> command = new java.util.ArrayList<>();
    String wrapper = System.getenv("LOVAGE_TEST_BROKER_CTL");
    if (wrapper != null && !wrapper.isBlank()) {
      command.addAll(List.of(wrapper.trim().split("\\s+")));
    }
    command.add(program);
    return command;
  }

  /**
   * The management API of a Testcontainers broker (its port is mapped elsewhere than 15672), the
   * one named by {@code LOVAGE_MANAGEMENT_URI} (as the services read it), or null when the broker
   * of RABBITMQ_URI is used and the services derive it themselves.
   */
  public static synchronized String managementUri() {
    uri();
    String fromEnv = System.getenv("LOVAGE_MANAGEMENT_URI");
    if (container == null && fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv;
    }
    return container == null
        ? null
        : "http://"
            + container.getAdminUsername()
            + ":"
            + container.getAdminPassword()
            + "@"
            + container.getHost()
            + ":"
            + container.getMappedPort(15672);
  }

  /** The major version of the test broker's RabbitMQ (3 or 4), from its server properties. */
  public static synchronized int brokerMajorVersion() {
    ConnectionFactory factory = new ConnectionFactory();
    try {
      factory.setUri(uri());
      try (Connection connection = factory.newConnection("test version probe")) {
        String version = String.valueOf(connection.getServerProperties().get("version"));
        return Integer.parseInt(version.substring(0, version.indexOf('.')));
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the broker's version: " + e, e);
    }
  }

  /**
   * A virtual host of a test's own, deleted (with everything in it) on close: for tests of what
   * Lovage keeps under fixed names (the scheduler's lease and streams), so that other users of the
   * broker, such as another replica running on it, neither disturb the test nor are disturbed.
   */
  public record Vhost(String name, String uri) implements AutoCloseable {
    /** A broker client in this virtual host, with a short publish timeout. */
    public RabbitBroker connect(String clientName) {
      return RabbitBroker.connect(
          withStreams(BrokerSettings.of(uri, clientName))
              .withConnectTimeout(Duration.ofSeconds(10)));
    }

    @Override
    public void close() {
      rabbitmqctl("delete_vhost", name);
    }
  }

  /**
   * Creates a virtual host named after {@code prefix} for the broker's user (see {@link Vhost}).
   */
  public static Vhost vhost(String prefix) {
    java.net.URI base = java.net.URI.create(uri());
    String name = "test-" + prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    String user = base.getUserInfo() == null ? "guest" : base.getUserInfo().split(":")[0];
    rabbitmqctl("add_vhost", name);
    rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*");
    String uri =
        base.getScheme() + "://" + base.getRawAuthority() + "/" + name; // a name with no escapes
    return new Vhost(name, uri);
  }

  /** A broker client for a test, with a short publish timeout. */
  public static RabbitBroker connect(String clientName) {
    return RabbitBroker.connect(settings(clientName));
  }

  /** The settings {@link #connect} uses. */
  public static BrokerSettings settings(String clientName) {
    return withStreams(BrokerSettings.of(uri(), clientName))
        .withConnectTimeout(Duration.ofSeconds(10));
  }

  /**
   * Where the test broker's stream protocol listens: as the services read it from {@code
   * LOVAGE_STREAM_PORT} and {@code RABBITMQ_STREAM_ADDRESSES} (.ci/rabbitmq4 sets the port of its
   * node), or off for a Testcontainers broker, whose stream port is not mapped.
   */
  public static synchronized BrokerSettings withStreams(BrokerSettings settings) {
    uri();
    return container != null
        ? settings.withStreams("off", null)
        : settings.withStreams(
            System.getenv("LOVAGE_STREAM_PORT"), System.getenv("RABBITMQ_STREAM_ADDRESSES"));
  }

  /** The test broker's stream-protocol port, as the services read {@code LOVAGE_STREAM_PORT}. */
  public static int streamPort() {
    String port = System.getenv("LOVAGE_STREAM_PORT");
    return port == null || port.isBlank()
        ? BrokerSettings.DEFAULT_STREAM_PORT
        : Integer.parseInt(port.strip());
  }

  /** A queue name no other test uses. */
  public static String uniqueQueue(String prefix) {
    return "test." + prefix + "." + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Deletes a task queue a test made, its dead-letter queues and its urgent lane, if any. */
  public static void deleteTaskQueue(String queue) {
    deleteQueues(
        queue,
        io.lovage.broker.LovageTopology.urgentLane(queue),
        io.lovage.broker.LovageTopology.deadLetterQueue(queue),
        io.lovage.broker.LovageTopology.brokerDeadLetterQueue(queue));
  }

  /** Messages ready in a queue (not held unacknowledged by a consumer), as RabbitMQ counts them. */
  public static int messagesReady(String queue) {
    ConnectionFactory factory = new ConnectionFactory();
    try {
      factory.setUri(uri());
      try (Connection connection = factory.newConnection("test count");
          Channel channel = connection.createChannel()) {
        return channel.queueDeclarePassive(queue).getMessageCount();
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot count the messages of " + queue + ": " + e, e);
    }
  }

  /** Deletes exchanges a test made (missing ones are fine). */
  public static void deleteExchanges(String... exchanges) {
    ConnectionFactory factory = new ConnectionFactory();
    try {
      factory.setUri(uri());
      try (Connection connection = factory.newConnection("test cleanup")) {
        for (String exchange : exchanges) {
          try (Channel channel = connection.createChannel()) {
            channel.exchangeDelete(exchange);
          }
        }
      }
    } catch (Exception e) {
      throw new IllegalStateException("cleanup failed: " + e, e);
    }
  }

  /** Deletes queues a test made (missing ones are fine). */
  public static void deleteQueues(String... queues) {
    ConnectionFactory factory = new ConnectionFactory();
    try {
      factory.setUri(uri());
      try (Connection connection = factory.newConnection("test cleanup")) {
        for (String queue : queues) {
          try (Channel channel = connection.createChannel()) {
            channel.queueDelete(queue);
          }
        }
      }
    } catch (Exception e) {
      throw new IllegalStateException("cleanup failed: " + e, e);
    }
  }
}
