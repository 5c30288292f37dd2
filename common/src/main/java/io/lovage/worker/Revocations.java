package io.lovage.worker;

import io.lovage.broker.Broker;
import io.lovage.broker.CatchUpMarker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Subscription;
import io.lovage.protocol.Json;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The revoked task ids a worker knows, read from the revocation stream from its start, so a worker
 * that starts after a revocation knows it too. Holds at most {@link #MAX_IDS} ids, oldest forgotten
 * first.
 */
final class Revocations implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Revocations.class);
  static final int MAX_IDS = 1_000_000;

  private final Set<String> revoked =
      Collections.newSetFromMap(
          Collections.synchronizedMap(
              new LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                  return size() > MAX_IDS;
                }
              }));
  private final Consumer<String> onTerminate;
  private final CatchUpMarker marker = new CatchUpMarker();
  private Subscription subscription;

  /**
   * @param onTerminate called with the id of a task revoked with {@code terminate}
   */
  Revocations(Consumer<String> onTerminate) {
    this.onTerminate = onTerminate;
  }

  /**
   * Reads the stream from its start and returns once every revocation published before this call is
   * known, or after {@code catchUp} (then later ones still arrive, and a warning says so); a {@link
   * CatchUpMarker} tells when.
   */
  Revocations follow(Broker broker, Duration catchUp) {
    subscription =
        broker.consume(
            LovageTopology.REVOCATION_STREAM,
            ConsumeOptions.prefetch(1_000).withArgument("x-stream-offset", "first"),
            this::onDelivery);
    long started = System.nanoTime();
    try {
      marker
          .append(broker, LovageTopology.REVOCATION_STREAM)
          .get(catchUp.toMillis(), TimeUnit.MILLISECONDS);
      long left = catchUp.toNanos() - (System.nanoTime() - started);
      if (!marker.await(Duration.ofNanos(Math.max(0, left)))) {
        log.warn(
            "revocations not read to the end within {} ms; revoked tasks may still run until"
                + " they are",
            catchUp.toMillis());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("could not mark the end of the revocation stream error={}", e.toString());
    }
    return this;
  }

  private void onDelivery(Delivery delivery) {
    try {
      JsonNode event = Json.MAPPER.readTree(delivery.message().body());
      if (marker.isMarker(event)) {
        return;
      }
      String id = event.path("uuid").asString(null);
      // Expired tasks are reported as revoked too; only revocations asked for count here.
      if (id != null && !event.path("expired").asBoolean(false)) {
        revoked.add(id);
        if (event.path("terminated").asBoolean(false)) {
          onTerminate.accept(id);
        }
      }
    } catch (JacksonException e) {
      log.warn("skipping a revocation that is not JSON error={}", e.getOriginalMessage());
    } finally {
      delivery.ack();
    }
  }

  /** The last {@code max} revoked ids known, oldest first. */
  java.util.List<String> recent(int max) {
    synchronized (revoked) {
      java.util.List<String> all = new java.util.ArrayList<>(revoked);
      return java.util.List.copyOf(all.subList(Math.max(0, all.size() - max), all.size()));
    }
  }

  boolean isRevoked(String taskId) {
    return revoked.contains(taskId);
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
  }
}
