package io.lovage.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Exchanges, queues and bindings, all durable. The same topology comes from code ({@link
 * LovageTopology}) and from {@code broker-config/definitions.json}; a test checks that they agree.
 */
public record Topology(List<Exchange> exchanges, List<Queue> queues, List<Binding> bindings) {

  /**
   * An exchange: {@code direct}, {@code topic} or {@code fanout}. Durable, but for exchanges that
   * Celery declares transient (its remote-control mailbox), which must be declared as Celery does.
   */
  public record Exchange(String name, String type, boolean durable) {
    public Exchange(String name, String type) {
      this(name, type, true);
    }
  }

  /**
   * A queue and its declaration arguments ({@code x-queue-type} and the like). A durable queue
   * outlives broker restarts; a transient one (a listener's or remote-control queue) is exclusive
   * to the connection that declared it (RabbitMQ 4.3 refuses transient queues that are not), so it
   * goes with that connection and comes back when the connection recovers.
   */
  public record Queue(
      String name, boolean durable, Map<String, Object> arguments, boolean remembered) {
    public Queue {
      arguments = Map.copyOf(arguments);
    }

    /**
     * Whether the queue goes away by itself (transient, or with an {@code x-expires}): a client's
     * own queue, which it declares again after a reconnect, never part of the shared topology.
     */
    public boolean goesAway() {
      return !durable || arguments.containsKey("x-expires");
    }

    public Queue(String name, boolean durable, Map<String, Object> arguments) {
      this(name, durable, arguments, true);
    }

    public Queue(String name, Map<String, Object> arguments) {
      this(name, true, arguments);
    }

    /**
     * A durable queue of which many come and go (a uniqueness lock): the client does not remember
     * it for recovery, so memory does not grow with every one ever declared, and a reconnect does
     * not declare again those that expired meanwhile.
     */
    public static Queue forgotten(String name, Map<String, Object> arguments) {
      return new Queue(name, true, arguments, false);
    }

    /**
     * A {@link #forgotten} classic queue that refuses a publish beyond {@code maxLength} ready
     * messages (the publisher gets a nack: how a claim or a permit is made once only) and goes away
     * after {@code expires} unused; {@code more} adds arguments (a message TTL).
     */
    public static Queue bounded(
        String name, int maxLength, java.time.Duration expires, Map<String, Object> more) {
      Map<String, Object> arguments = new java.util.HashMap<>(more);
      arguments.put("x-queue-type", "classic");
      arguments.put("x-max-length", maxLength);
      arguments.put("x-overflow", "reject-publish");
      arguments.put("x-expires", expires.toMillis());
      return forgotten(name, arguments);
    }
  }

  /**
   * A binding from an exchange to a queue, or to another exchange when {@code toExchange} (the
   * delay ladder hands messages from level to level that way).
   */
  public record Binding(String source, String destination, String routingKey, boolean toExchange) {
    public Binding(String source, String queue, String routingKey) {
      this(source, queue, routingKey, false);
    }
  }

  public Topology {
    exchanges = List.copyOf(exchanges);
    queues = List.copyOf(queues);
    bindings = List.copyOf(bindings);
  }

  /** This topology and the other one, without repeating what both have. */
  public Topology plus(Topology other) {
    return new Topology(
        union(exchanges, other.exchanges),
        union(queues, other.queues),
        union(bindings, other.bindings));
  }

  private static <T> List<T> union(List<T> a, List<T> b) {
    List<T> all = new ArrayList<>(a);
    b.stream().filter(item -> !all.contains(item)).forEach(all::add);
    return all;
  }
}
