package io.lovage;

import io.lovage.broker.Broker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.Message;
import io.lovage.broker.Subscription;
import io.lovage.broker.Topology;
import io.lovage.protocol.Json;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The caller's side of Celery's remote control, what {@code celery inspect} and Flower do: a
 * request to every worker (or to some, by name) through the fanout exchange {@code celery.pidbox},
 * and their answers, collected from this caller's reply queue by the request's ticket. Lovage's and
 * Celery's workers answer alike.
 *
 * <pre>{@code
 * Map<String, JsonNode> pongs = control.call("ping", null, List.of(), Duration.ofSeconds(1), 0);
 * }</pre>
 */
public final class RemoteControl implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RemoteControl.class);

  /** Celery's exchange for replies. */
  public static final String REPLY_EXCHANGE = "reply.celery.pidbox";

  private final Broker broker;
  private final Clock clock;
  private final String oid = UUID.randomUUID().toString();
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  private Subscription replies;

  private record Pending(Map<String, JsonNode> answers, CountDownLatch enough) {}

  public RemoteControl(Broker broker, Clock clock) {
    this.broker = broker;
    this.clock = clock;
  }

  /**
   * Sends {@code method} and collects answers until {@code timeout}, or until {@code limit} workers
   * answered (0: no limit; with named destinations, once all of them answered).
   *
   * @param destination worker names, or empty for every worker
   * @return the answers by worker name, in the order they came
   */
  public Map<String, JsonNode> call(
      String method, ObjectNode arguments, List<String> destination, Duration timeout, int limit) {
    listen();
    String ticket = UUID.randomUUID().toString();
    int wanted = limit > 0 ? limit : destination.size();
    Pending waiting =
        new Pending(
            java.util.Collections.synchronizedMap(new LinkedHashMap<>()),
            new CountDownLatch(wanted > 0 ? wanted : Integer.MAX_VALUE));
    pending.put(ticket, waiting);
    try {
      ObjectNode request = request(method, arguments, destination);
      request.put("ticket", ticket);
      ObjectNode replyTo = request.putObject("reply_to");
      replyTo.put("exchange", REPLY_EXCHANGE);
      replyTo.put("routing_key", oid);
      publish(request, timeout).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      waiting.enough().await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // No worker bound to the exchange (unroutable), or the broker did not take it: no answers.
      log.debug("remote control request not delivered method={} error={}", method, e.toString());
    } finally {
      pending.remove(ticket);
    }
    synchronized (waiting.answers()) {
      return Map.copyOf(new LinkedHashMap<>(waiting.answers()));
    }
  }

  /**
   * Sends {@code method} to every worker and waits for no answer (kombu's {@code cast}); completes
   * once the broker took it, exceptionally when no worker is bound to the exchange.
   */
  public CompletableFuture<Void> cast(String method, ObjectNode arguments, Duration expires) {
    try {
      declareExchange();
      return publish(request(method, arguments, List.of()), expires);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static ObjectNode request(String method, ObjectNode arguments, List<String> destination) {
    ObjectNode request = Json.MAPPER.createObjectNode();
    request.put("method", method);
    request.set("arguments", arguments == null ? Json.MAPPER.createObjectNode() : arguments);
    if (destination.isEmpty()) {
      request.putNull("destination");
    } else {
      request.set("destination", Json.MAPPER.valueToTree(destination));
    }
    request.putNull("pattern");
    request.putNull("matcher");
    return request;
  }

  /** Publishes a request; a worker drops it once {@code expires} has passed (header expires). */
  private CompletableFuture<Void> publish(ObjectNode request, Duration expires) {
    double until = (clock.millis() + expires.toMillis()) / 1000.0;
    return broker.publish(
        TaskClient.PIDBOX_EXCHANGE,
        "",
        Message.json(Json.MAPPER.writeValueAsBytes(request), Map.of("clock", 0, "expires", until)));
  }

  private synchronized void declareExchange() {
    if (!exchangeDeclared) {
      broker.declare(
          new Topology(
              List.of(new Topology.Exchange(TaskClient.PIDBOX_EXCHANGE, "fanout", false)),
              List.of(),
              List.of()));
      exchangeDeclared = true;
    }
  }

  private boolean exchangeDeclared;

  private synchronized void listen() {
    if (replies != null) {
      return;
    }
    String queue = oid + "." + REPLY_EXCHANGE;
    broker.declare(
        new Topology(
            List.of(
                new Topology.Exchange(TaskClient.PIDBOX_EXCHANGE, "fanout", false),
                new Topology.Exchange(REPLY_EXCHANGE, "direct", false)),
            List.of(
                new Topology.Queue(
                    queue, false, Map.of("x-expires", 10_000, "x-message-ttl", 10_000))),
            List.of(new Topology.Binding(REPLY_EXCHANGE, queue, oid))));
    replies = broker.consume(queue, ConsumeOptions.prefetch(100), this::onReply);
  }

  private void onReply(Delivery delivery) {
    try {
      Object ticket = delivery.message().headers().get("ticket");
      Pending waiting = ticket == null ? null : pending.get(ticket.toString());
      if (waiting != null) {
        JsonNode body = Json.MAPPER.readTree(delivery.message().body());
        body.properties()
            .forEach(
                answer -> {
                  waiting.answers().put(answer.getKey(), answer.getValue());
                  waiting.enough().countDown();
                });
      }
    } catch (JacksonException e) {
      log.debug("ignoring a remote control reply that is not JSON error={}", e.getMessage());
    } finally {
      delivery.ack();
    }
  }

  @Override
  public synchronized void close() {
    if (replies != null) {
      replies.close();
      replies = null;
    }
  }
}
