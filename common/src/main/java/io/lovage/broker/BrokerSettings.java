package io.lovage.broker;

import java.time.Duration;

/**
 * How to reach RabbitMQ.
 *
 * @param uri e.g. {@code amqp://guest:guest@localhost:5672/%2F}: credentials, virtual host, TLS,
 *     and the node to connect to unless {@code addresses} names nodes
 * @param addresses the nodes of a cluster, {@code host:port} each, tried in a random order per
 *     connection and again on every recovery; empty: the URI's host
 * @param clientName shown as the connection name in the management UI
 * @param publishTimeout how long a publish waits for the broker's confirm before it fails
 * @param heartbeat AMQP heartbeat: how soon a dead connection is noticed
 * @param connectTimeout how long the first connection is retried before giving up
 */
public record BrokerSettings(
    String uri,
    java.util.List<String> addresses,
    String clientName,
    Duration publishTimeout,
    Duration heartbeat,
    Duration connectTimeout) {

  public static final String DEFAULT_URI = "amqp://guest:guest@localhost:5672/%2F";
  public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(60);

  public BrokerSettings {
    addresses = java.util.List.copyOf(addresses);
  }

  public static BrokerSettings of(String uri, String clientName) {
    return new BrokerSettings(
        uri == null || uri.isBlank() ? DEFAULT_URI : uri,
        java.util.List.of(),
        clientName,
        DEFAULT_PUBLISH_TIMEOUT,
        DEFAULT_HEARTBEAT,
        DEFAULT_CONNECT_TIMEOUT);
  }

  /**
   * Settings from the {@code RABBITMQ_URI} environment variable, or the default URI, and the nodes
   * in {@code RABBITMQ_ADDRESSES} if set.
   */
  public static BrokerSettings fromEnvironment(String clientName) {
    return of(System.getenv("RABBITMQ_URI"), clientName)
        .withAddresses(System.getenv("RABBITMQ_ADDRESSES"));
  }

  /**
   * These settings with the nodes of a cluster, as {@code RABBITMQ_ADDRESSES} writes them: {@code
   * host1:5672,host2:5672,host3} (the port defaults to 5672, or 5671 with an {@code amqps} URI);
   * null or blank keeps the URI's host.
   *
   * @throws IllegalArgumentException naming the entry that is not {@code host[:port]}
   */
  public BrokerSettings withAddresses(String text) {
    java.util.List<String> nodes = new java.util.ArrayList<>();
    if (text != null) {
      for (String entry : text.split(",")) {
        String node = entry.trim();
        if (node.isEmpty()) {
          continue;
        }
        if (!node.matches("[A-Za-z0-9._-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
          throw new IllegalArgumentException(
              "RABBITMQ_ADDRESSES entry '"
                  + node
                  + "' is not host or host:port, e.g. rabbit1:5672,rabbit2:5672,rabbit3:5672");
        }
        nodes.add(node);
      }
    }
    return new BrokerSettings(uri, nodes, clientName, publishTimeout, heartbeat, connectTimeout);
  }

  public BrokerSettings withPublishTimeout(Duration timeout) {
    return new BrokerSettings(uri, addresses, clientName, timeout, heartbeat, connectTimeout);
  }

  public BrokerSettings withHeartbeat(Duration heartbeat) {
    return new BrokerSettings(
        uri, addresses, clientName, publishTimeout, heartbeat, connectTimeout);
  }

  public BrokerSettings withConnectTimeout(Duration timeout) {
    return new BrokerSettings(uri, addresses, clientName, publishTimeout, heartbeat, timeout);
  }
}
