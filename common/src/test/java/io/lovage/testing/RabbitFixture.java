package io.lovage.testing;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.lovage.broker.BrokerSettings;
import io.lovage.broker.RabbitBroker;
import java.time.Duration;
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

  private RabbitFixture() {}

  public static synchronized String uri() {
    if (uri != null) {
      return uri;
    }
    String fromEnv = System.getenv("RABBITMQ_URI");
    if (fromEnv != null && !fromEnv.isBlank()) {
      uri = fromEnv;
    } else if (dockerAvailable()) {
      RabbitMQContainer container = new RabbitMQContainer(IMAGE);
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

  /** A broker client for a test, with a short publish timeout. */
  public static RabbitBroker connect(String clientName) {
    return RabbitBroker.connect(
        BrokerSettings.of(uri(), clientName).withConnectTimeout(Duration.ofSeconds(10)));
  }

  /** A queue name no other test uses. */
  public static String uniqueQueue(String prefix) {
    return "test." + prefix + "." + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Deletes a task queue a test made and its dead-letter queues. */
  public static void deleteTaskQueue(String queue) {
    deleteQueues(
        queue,
        io.lovage.broker.LovageTopology.deadLetterQueue(queue),
        io.lovage.broker.LovageTopology.brokerDeadLetterQueue(queue));
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
