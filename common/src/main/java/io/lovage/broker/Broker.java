package io.lovage.broker;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The narrow door to RabbitMQ: declare topology, publish with confirmation, consume with
 * acknowledgements, take one message. Everything else in Lovage is built on these few methods.
 *
 * <pre>{@code
 * try (Broker broker = RabbitBroker.connect(BrokerSettings.fromEnvironment("my-app"))) {
 *   broker.declare(LovageTopology.taskQueue("celery"));
 *   broker.publish("celery", "celery", message).join(); // returns once RabbitMQ confirmed it
 * }
 * }</pre>
 */
public interface Broker extends AutoCloseable {

  /**
   * Declares exchanges, queues and bindings. A queue that already exists with other arguments is
   * used as it is (Celery may have created it): the answer lists such mismatches, empty when the
   * broker has exactly this topology.
   */
  java.util.List<String> declare(Topology topology);

  /**
   * Publishes a message as mandatory. The future completes once the broker has confirmed it, and
   * completes exceptionally with a {@link PublishException} when it was returned as unroutable,
   * nacked, not confirmed in time, or the connection was lost before the confirm.
   */
  CompletableFuture<Void> publish(String exchange, String routingKey, Message message);

  /**
   * Starts consuming a queue with manual acknowledgements. The handler is called once per delivery,
   * from a thread of the broker's; it must ack, reject or requeue each delivery, possibly later.
   */
  Subscription consume(String queue, ConsumeOptions options, Consumer<Delivery> handler);

  /**
   * Takes the message at the head of a queue, if there is one (AMQP {@code basic.get}), without a
   * consumer: for reading a queue now and then, as {@link io.lovage.unique.UniqueLocks} reads who
   * holds a lock. Empty when the queue is empty or does not exist. The delivery must be acked or
   * requeued (a requeued message goes back to the head).
   */
  java.util.Optional<Delivery> get(String queue);

  /**
   * How many messages are ready in a queue and how many consumers it has now (AMQP's passive {@code
   * queue.declare}), or empty when it does not exist: for sharing work by the number of consumers,
   * as the tokens of a global rate limit are, and for showing what a limit uses.
   */
  java.util.Optional<QueueCounts> inspect(String queue);

  /**
   * A queue's counts at one moment.
   *
   * @param ready messages ready for delivery (not those out with consumers)
   * @param consumers consumers subscribed to it
   */
  record QueueCounts(long ready, int consumers) {}

  /**
   * The broker's RabbitMQ version, such as {@code 3.10.8}, from the connection's server properties:
   * what a queue can do differs between versions (see {@link TaskQueues}).
   */
  String version();

  /** Whether the broker connection is up now (for health checks). */
  boolean isConnected();

  /** While the connection is down, why, as far as known (for health checks). */
  default java.util.Optional<String> connectionProblem() {
    return isConnected()
        ? java.util.Optional.empty()
        : java.util.Optional.of("the connection to the broker is down");
  }

  @Override
  void close();
}
