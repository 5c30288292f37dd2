package io.lovage.broker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * A {@link Broker} in memory, for unit tests and dev mode: direct, topic and fanout exchanges,
 * exchange-to-exchange bindings, prefetch, acknowledgements, dead-lettering on reject, and streams
 * that every consumer reads from the start, {@code x-max-length} with {@code reject-publish}. No
 * TTLs: a message in a delay queue stays there. It proves nothing about RabbitMQ itself;
 * integration tests do that.
 */
public final class InMemoryBroker implements Broker {
  private final Map<String, String> exchanges = new HashMap<>();
  private final Map<String, MemoryQueue> queues = new LinkedHashMap<>();
  private final List<Topology.Binding> bindings = new ArrayList<>();
  private final ExecutorService dispatcher =
      Executors.newSingleThreadExecutor(
          Thread.ofPlatform().name("in-memory-broker").daemon().factory());

  /** The RabbitMQ version it answers when none is given: where versions differ, the newer one. */
  public static final String DEFAULT_VERSION = "4.0.5";

  private final String version;

  public InMemoryBroker() {
    this(DEFAULT_VERSION);
  }

  /** A broker that answers {@code version} to {@link #version()}, as that RabbitMQ would. */
  public InMemoryBroker(String version) {
    this.version = version;
  }

  @Override
  public String version() {
    return version;
  }

  @Override
  public synchronized List<String> declare(Topology topology) {
    topology.exchanges().forEach(e -> exchanges.put(e.name(), e.type()));
    topology.queues().forEach(q -> queues.computeIfAbsent(q.name(), n -> new MemoryQueue(q)));
    topology.bindings().stream().filter(b -> !bindings.contains(b)).forEach(bindings::add);
    return List.of();
  }

  @Override
  public synchronized CompletableFuture<Void> publish(
      String exchange, String routingKey, Message message) {
    List<MemoryQueue> targets = new ArrayList<>(route(exchange, routingKey));
    if (message.headers().get("BCC") instanceof List<?> also) {
      // RabbitMQ's sender-selected distribution: routed with these keys as well, header removed.
      for (Object key : also) {
        route(exchange, String.valueOf(key)).stream()
            .filter(q -> !targets.contains(q))
            .forEach(targets::add);
      }
      Map<String, Object> headers = new LinkedHashMap<>(message.headers());
      headers.remove("BCC");
      message = message.withHeaders(headers);
    }
    if (targets.isEmpty()) {
      return CompletableFuture.failedFuture(
          new PublishException(
              PublishException.Reason.UNROUTABLE,
              "no queue is bound for exchange '"
                  + exchange
                  + "' routing key '"
                  + routingKey
                  + "'"));
    }
    if (targets.stream().anyMatch(MemoryQueue::refusesMore)) {
      // RabbitMQ routes to the others and nacks the publish; nothing here needs those copies.
      return CompletableFuture.failedFuture(
          new PublishException(
              PublishException.Reason.NACKED,
              "broker refused the message to routing key '" + routingKey + "'"));
    }
    Message routed = message;
    targets.forEach(q -> q.offer(new Entry(routed, 0)));
    dispatch();
    return CompletableFuture.completedFuture(null);
  }

  private List<MemoryQueue> route(String exchange, String routingKey) {
    if (exchange.isEmpty()) {
      MemoryQueue q = queues.get(routingKey);
      return q == null ? List.of() : List.of(q);
    }
    String type = exchanges.get(exchange);
    java.util.Set<MemoryQueue> out = new java.util.LinkedHashSet<>();
    for (Topology.Binding b : bindings) {
      if (b.source().equals(exchange) && matches(type, b.routingKey(), routingKey)) {
        if (b.toExchange()) {
          out.addAll(route(b.destination(), routingKey));
        } else {
          out.add(queues.get(b.destination()));
        }
      }
    }
    return List.copyOf(out);
  }

  static boolean matches(String type, String pattern, String key) {
    return switch (type == null ? "direct" : type) {
      case "fanout" -> true;
      case "topic" ->
          key.matches(
              pattern
                  .replace(".", "\\.")
                  .replace("*", "[^.]+")
                  .replace("\\.#", "(\\..*)?")
                  .replace("#", ".*"));
      default -> pattern.equals(key);
    };
  }

  @Override
  public synchronized Subscription consume(
      String queue, ConsumeOptions options, Consumer<Delivery> handler) {
    MemoryQueue q = queues.get(queue);
    if (q == null) {
      throw new BrokerException("cannot consume queue '" + queue + "': no such queue");
    }
    Object offset = options.arguments().get("x-stream-offset");
    int cursor =
        offset instanceof Number n
            ? (int) Math.min(Math.max(0, n.longValue()), q.log.size())
            : "next".equals(offset) || "last".equals(offset) ? q.log.size() : 0;
    MemoryConsumer consumer = new MemoryConsumer(q, options.prefetch(), handler, cursor);
    q.consumers.add(consumer);
    dispatch();
    return () -> {
      synchronized (InMemoryBroker.this) {
        q.consumers.remove(consumer);
        // As when a channel closes: what the consumer had not settled goes back to the queue.
        for (MemoryDelivery unsettled : List.copyOf(consumer.outstanding)) {
          unsettled.settled = true;
          unsettled.returned = true;
          consumer.unacked--;
          if (!q.isStream()) {
            q.ready.addFirst(
                new Entry(unsettled.entry.message(), unsettled.entry.deliveryCount() + 1));
          }
        }
        consumer.outstanding.clear();
      }
      dispatch();
    };
  }

  @Override
  public synchronized java.util.Optional<Delivery> get(String queue) {
    MemoryQueue q = queues.get(queue);
    if (q == null || q.isStream() || q.ready.isEmpty()) {
      return java.util.Optional.empty();
    }
    Entry entry = q.ready.pollFirst();
    return java.util.Optional.of(new Taken(q, entry));
  }

  @Override
  public synchronized java.util.Optional<QueueCounts> inspect(String queue) {
    MemoryQueue q = queues.get(queue);
    return q == null
        ? java.util.Optional.empty()
        : java.util.Optional.of(new QueueCounts(q.ready.size(), q.consumers.size()));
  }

  /**
   * What a consumer's delivery and a message taken with {@link #get} share: the message, and
   * RabbitMQ's three ways to settle it (a requeued one goes back to the head, a rejected one to the
   * queue's dead letters).
   */
  private abstract class Settleable implements Delivery {
    final MemoryQueue source;
    final Entry entry;
    boolean settled;

    Settleable(MemoryQueue source, Entry entry) {
      this.source = source;
      this.entry = entry;
    }

    @Override
    public Message message() {
      return entry.message();
    }

    @Override
    public String queue() {
      return source.spec.name();
    }

    @Override
    public long deliveryCount() {
      return entry.deliveryCount();
    }

    @Override
    public boolean held() {
      synchronized (InMemoryBroker.this) {
        return !settled;
      }
    }

    @Override
    public void ack() {
      settle(() -> {});
    }

    @Override
    public void reject() {
      settle(() -> source.deadLetter(entry.message()));
    }

    @Override
    public void requeue() {
      settle(() -> source.ready.addFirst(new Entry(entry.message(), entry.deliveryCount() + 1)));
    }

    /** Settles it once, doing {@code action} to its queue, then dispatches. */
    abstract void settle(Runnable action);
  }

  /** A message taken with {@link #get}: settling it twice does nothing. */
  private final class Taken extends Settleable {
    Taken(MemoryQueue queue, Entry entry) {
      super(queue, entry);
    }

    @Override
    void settle(Runnable action) {
      synchronized (InMemoryBroker.this) {
        if (settled) {
          return;
        }
        settled = true;
        action.run();
      }
      dispatch();
    }
  }

  /** How many messages wait in a queue, not counting unacknowledged ones. */
  public synchronized int ready(String queue) {
    return queues.get(queue).ready.size();
  }

  /** How many deliveries of a queue are out with consumers, not yet settled. */
  public synchronized int unacked(String queue) {
    return queues.get(queue).consumers.stream().mapToInt(c -> c.unacked).sum();
  }

  /** The messages waiting in a queue, oldest first. */
  public synchronized List<Message> messages(String queue) {
    MemoryQueue q = queues.get(queue);
    return q.isStream() ? List.copyOf(q.log) : q.ready.stream().map(Entry::message).toList();
  }

  private void dispatch() {
    dispatcher.execute(this::deliverAll);
  }

  private void deliverAll() {
    List<Runnable> calls = new ArrayList<>();
    synchronized (this) {
      for (MemoryQueue q : queues.values()) {
        q.collect(calls);
      }
    }
    calls.forEach(Runnable::run);
  }

  @Override
  public boolean isConnected() {
    return !dispatcher.isShutdown();
  }

  @Override
  public void close() {
    dispatcher.shutdown();
  }

  private record Entry(Message message, long deliveryCount) {}

  private final class MemoryQueue {
    final Topology.Queue spec;
    final Deque<Entry> ready = new ArrayDeque<>();
    final List<Message> log = new ArrayList<>();
    final List<MemoryConsumer> consumers = new ArrayList<>();
    int next;

    MemoryQueue(Topology.Queue spec) {
      this.spec = spec;
    }

    boolean isStream() {
      return "stream".equals(spec.arguments().get("x-queue-type"));
    }

    /** x-max-length with x-overflow reject-publish, counting ready messages as RabbitMQ does. */
    boolean refusesMore() {
      return "reject-publish".equals(spec.arguments().get("x-overflow"))
          && spec.arguments().get("x-max-length") instanceof Number max
          && ready.size() >= max.longValue();
    }

    void offer(Entry entry) {
      if (isStream()) {
        log.add(entry.message());
      } else {
        ready.addLast(entry);
      }
    }

    void collect(List<Runnable> calls) {
      if (consumers.isEmpty()) {
        return;
      }
      if (isStream()) {
        for (MemoryConsumer c : consumers) {
          while (c.unacked < c.prefetch && c.cursor < log.size()) {
            Message m = log.get(c.cursor);
            java.util.Map<String, Object> headers = new java.util.LinkedHashMap<>(m.headers());
            headers.put("x-stream-offset", (long) c.cursor++);
            calls.add(c.deliver(new Entry(m.withHeaders(headers), 0)));
          }
        }
        return;
      }
      if (Boolean.TRUE.equals(spec.arguments().get("x-single-active-consumer"))) {
        // RabbitMQ's single active consumer: the oldest consumer gets everything.
        MemoryConsumer active = consumers.getFirst();
        while (!ready.isEmpty() && active.unacked < active.prefetch) {
          calls.add(active.deliver(ready.pollFirst()));
        }
        return;
      }
      int idle = 0;
      while (!ready.isEmpty() && idle < consumers.size()) {
        MemoryConsumer c = consumers.get(next++ % consumers.size());
        if (c.unacked < c.prefetch) {
          calls.add(c.deliver(ready.pollFirst()));
          idle = 0;
        } else {
          idle++;
        }
      }
    }

    void deadLetter(Message message) {
      Object exchange = spec.arguments().get("x-dead-letter-exchange");
      if (exchange != null) {
        Object key = spec.arguments().getOrDefault("x-dead-letter-routing-key", spec.name());
        route(exchange.toString(), key.toString()).forEach(q -> q.offer(new Entry(message, 0)));
      }
    }
  }

  private final class MemoryConsumer {
    final MemoryQueue queue;
    final int prefetch;
    final Consumer<Delivery> handler;
    int cursor;
    int unacked;
    final java.util.Set<MemoryDelivery> outstanding = new java.util.LinkedHashSet<>();

    MemoryConsumer(MemoryQueue queue, int prefetch, Consumer<Delivery> handler, int cursor) {
      this.queue = queue;
      this.prefetch = prefetch;
      this.handler = handler;
      this.cursor = cursor;
    }

    Runnable deliver(Entry entry) {
      unacked++;
      MemoryDelivery delivery = new MemoryDelivery(this, entry);
      outstanding.add(delivery);
      return () -> handler.accept(delivery);
    }
  }

  private final class MemoryDelivery extends Settleable {
    private final MemoryConsumer consumer;
    private boolean returned;

    MemoryDelivery(MemoryConsumer consumer, Entry entry) {
      super(consumer.queue, entry);
      this.consumer = consumer;
    }

    @Override
    void settle(Runnable action) {
      synchronized (InMemoryBroker.this) {
        if (returned) {
          return; // its consumer stopped and the message went back: as on a closed channel
        }
        if (settled) {
          throw new IllegalStateException("delivery already settled");
        }
        settled = true;
        consumer.unacked--;
        consumer.outstanding.remove(this);
        if (!consumer.queue.isStream()) {
          action.run();
        }
      }
      dispatch();
    }
  }
}
