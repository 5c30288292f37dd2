package io.lovage.testing;

import io.lovage.broker.Broker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.Message;
import io.lovage.broker.Subscription;
import io.lovage.broker.Topology;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A broker that passes everything to another one: a test overrides the method whose behaviour it
 * changes (a refused publish, a delivery held back). Closing it leaves the other open.
 */
public abstract class ForwardingBroker implements Broker {
  protected final Broker inner;

  protected ForwardingBroker(Broker inner) {
    this.inner = inner;
  }

  @Override
  public List<String> declare(Topology topology) {
    return inner.declare(topology);
  }

  @Override
  public CompletableFuture<Void> publish(String exchange, String routingKey, Message message) {
    return inner.publish(exchange, routingKey, message);
  }

  @Override
  public Subscription consume(String queue, ConsumeOptions options, Consumer<Delivery> handler) {
    return inner.consume(queue, options, handler);
  }

  @Override
  public java.util.Optional<Delivery> get(String queue) {
    return inner.get(queue);
  }

  @Override
  public java.util.Optional<QueueCounts> inspect(String queue) {
    return inner.inspect(queue);
  }

  @Override
  public String version() {
    return inner.version();
  }

  @Override
  public boolean isConnected() {
    return inner.isConnected();
  }

  @Override
  public void close() {}
}
