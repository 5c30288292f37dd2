package io.lovage.worker;

import io.lovage.broker.Broker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Subscription;
import io.lovage.protocol.Json;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
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
  private Subscription subscription;

  /**
   * @param onTerminate called with the id of a task revoked with {@code terminate}
   */
  Revocations(Consumer<String> onTerminate) {
    this.onTerminate = onTerminate;
  }

  Revocations follow(Broker broker) {
    subscription =
        broker.consume(
            LovageTopology.REVOCATION_STREAM,
            ConsumeOptions.prefetch(1_000).withArgument("x-stream-offset", "first"),
            this::onDelivery);
    return this;
  }

  private void onDelivery(Delivery delivery) {
    try {
      JsonNode event = Json.MAPPER.readTree(delivery.message().body());
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
