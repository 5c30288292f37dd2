package io.lovage.broker;

import java.time.Duration;

/**
 * How to reach RabbitMQ.
 *
 * @param uri e.g. {@code amqp://guest:guest@localhost:5672/%2F}
 * @param clientName shown as the connection name in the management UI
 * @param publishTimeout how long a publish waits for the broker's confirm before it fails
 * @param heartbeat AMQP heartbeat: how soon a dead connection is noticed
 * @param connectTimeout how long the first connection is retried before giving up
 */
public record BrokerSettings(
    String uri,
    String clientName,
    Duration publishTimeout,
    Duration heartbeat,
    Duration connectTimeout) {

  public static final String DEFAULT_URI = "amqp://guest:guest@localhost:5672/%2F";
  public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(60);

  public static BrokerSettings of(String uri, String clientName) {
    return new BrokerSettings(
        uri == null || uri.isBlank() ? DEFAULT_URI : uri,
        clientName,
        DEFAULT_PUBLISH_TIMEOUT,
        DEFAULT_HEARTBEAT,
        DEFAULT_CONNECT_TIMEOUT);
  }

  /** Settings from the {@code RABBITMQ_URI} environment variable, or the default URI. */
  public static BrokerSettings fromEnvironment(String clientName) {
    return of(System.getenv("RABBITMQ_URI"), clientName);
  }

  public BrokerSettings withPublishTimeout(Duration timeout) {
    return new BrokerSettings(uri, clientName, timeout, heartbeat, connectTimeout);
  }

  public BrokerSettings withHeartbeat(Duration heartbeat) {
    return new BrokerSettings(uri, clientName, publishTimeout, heartbeat, connectTimeout);
  }

  public BrokerSettings withConnectTimeout(Duration timeout) {
    return new BrokerSettings(uri, clientName, publishTimeout, heartbeat, timeout);
  }
}
