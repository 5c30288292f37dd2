package io.lovage.bench;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.lovage.broker.LovageTopology;
import java.io.IOException;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * What the bench asks RabbitMQ directly, on its own AMQP connection: a queue's depth (a passive
 * declare), purging, and deleting every queue the bench used when it is done.
 */
final class BrokerQueues implements AutoCloseable {
  private final Connection connection;
  private final Set<String> created = new LinkedHashSet<>();
  private final Set<String> exchanges = new LinkedHashSet<>();

  BrokerQueues(String uri) {
    try {
      ConnectionFactory factory = new ConnectionFactory();
      factory.setUri(uri);
      connection = factory.newConnection("lovage-bench-admin");
    } catch (Exception e) {
      throw new IllegalStateException("cannot connect to RabbitMQ at " + uri + ": " + e, e);
    }
  }

  /**
   * Remembers a Lovage task queue to delete at the end, with the two dead-letter queues Lovage
   * declares beside it and its urgent lane (RabbitMQ 3.x quorum queues).
   */
  synchronized void usedTaskQueue(String queue) {
    created.add(queue);
    created.add(LovageTopology.urgentLane(queue));
    created.add(LovageTopology.deadLetterQueue(queue));
    created.add(LovageTopology.brokerDeadLetterQueue(queue));
  }

  synchronized void usedQueue(String queue) {
    created.add(queue);
  }

  synchronized void usedExchange(String exchange) {
    exchanges.add(exchange);
  }

  /** The broker's version, as it announces itself. */
  String serverVersion() {
    return String.valueOf(connection.getServerProperties().get("version"));
  }

  /** Messages ready in the queue (not those delivered and not yet acknowledged). */
  long ready(String queue) {
    return withChannel(channel -> (long) channel.queueDeclarePassive(queue).getMessageCount());
  }

  long consumers(String queue) {
    return withChannel(channel -> (long) channel.queueDeclarePassive(queue).getConsumerCount());
  }

  void purge(String queue) {
    withChannel(channel -> (long) channel.queuePurge(queue).getMessageCount());
  }

  /** Deletes the queues and exchanges the bench used; those already gone are skipped. */
  synchronized void deleteAll() {
    for (String queue : created) {
      withChannel(channel -> (long) channel.queueDelete(queue).getMessageCount(), true);
    }
    for (String exchange : exchanges) {
      withChannel(
          channel -> {
            channel.exchangeDelete(exchange);
            return 0L;
          },
          true);
    }
    created.clear();
    exchanges.clear();
  }

  private interface ChannelCall {
    long call(Channel channel) throws IOException;
  }

  private long withChannel(ChannelCall call) {
    return withChannel(call, false);
  }

  // A channel per call: a passive declare of a missing queue closes its channel (404).
  private long withChannel(ChannelCall call, boolean quiet) {
    try (Channel channel = connection.createChannel()) {
      return call.call(channel);
    } catch (IOException | TimeoutException | com.rabbitmq.client.AlreadyClosedException e) {
      if (quiet) {
        return -1;
      }
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new IllegalStateException("RabbitMQ: " + cause, e);
    }
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (IOException | com.rabbitmq.client.AlreadyClosedException e) {
      // closing anyway
    }
  }
}
