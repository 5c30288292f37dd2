package io.lovage.result;

import io.lovage.broker.Broker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Subscription;
import io.lovage.broker.Topology;
import io.lovage.protocol.Json;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The workers alive now, from their heartbeats (Celery's {@code worker-heartbeat} events, from
 * Lovage and Celery workers alike). A worker is alive until it says {@code worker-offline} or
 * misses three heartbeats.
 */
public final class WorkerDirectory implements AutoCloseable {
  /** What the last heartbeat of a worker said. */
  public record WorkerInfo(
      String hostname,
      String software,
      int active,
      long processed,
      double freq,
      Instant lastSeen) {}

  private final Clock clock;
  private final Map<String, WorkerInfo> workers = new ConcurrentHashMap<>();
  private Subscription subscription;

  public WorkerDirectory(Clock clock) {
    this.clock = clock;
  }

  /** Listens to worker events on a queue of its own, deleted a minute after this process ends. */
  public WorkerDirectory follow(Broker broker) {
    String queue = "lovage.workers." + UUID.randomUUID();
    broker.declare(
        LovageTopology.events()
            .plus(
                new Topology(
                    List.of(),
                    List.of(new Topology.Queue(queue, false, Map.of("x-expires", 60_000))),
                    List.of(
                        new Topology.Binding(LovageTopology.EVENT_EXCHANGE, queue, "worker.#")))));
    subscription = broker.consume(queue, ConsumeOptions.prefetch(100), this::onDelivery);
    return this;
  }

  private void onDelivery(Delivery delivery) {
    try {
      JsonNode event = Json.MAPPER.readTree(delivery.message().body());
      String hostname = event.path("hostname").asString(null);
      String type = event.path("type").asString("");
      if (hostname != null) {
        if (type.equals("worker-offline")) {
          workers.remove(hostname);
        } else if (type.startsWith("worker-")) {
          workers.put(
              hostname,
              new WorkerInfo(
                  hostname,
                  event.path("sw_ident").asString("unknown"),
                  event.path("active").asInt(0),
                  event.path("processed").asLong(0),
                  event.path("freq").asDouble(2.0),
                  clock.instant()));
        }
      }
    } catch (JacksonException e) {
      // not a worker event of ours or Celery's: ignored
    } finally {
      delivery.ack();
    }
  }

  /** The workers heard from within three of their heartbeat intervals, by name. */
  public List<WorkerInfo> alive() {
    Instant now = clock.instant();
    return workers.values().stream()
        .filter(w -> w.lastSeen().plus(Duration.ofMillis(Math.round(w.freq() * 3000))).isAfter(now))
        .sorted(Comparator.comparing(WorkerInfo::hostname))
        .toList();
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
  }
}
