package io.lovage.broker;

import io.lovage.protocol.Json;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;

/**
 * Tells a reader of a stream when it has read everything that was in the stream when it started. A
 * stream is ordered, so the reader appends a marker of its own and has caught up once it reads it
 * back. The marker goes through the default exchange: it reaches that stream only, never the
 * exchange whose bindings feed the stream, so Celery's event receivers and Flower never see it.
 * Other readers of the stream see it and skip it ({@link #isMarker}).
 */
public final class CatchUpMarker {
  /** The one field of a marker; no event or revocation has it. */
  static final String FIELD = "lovage_caught_up";

  private final String id = UUID.randomUUID().toString();
  private final CountDownLatch read = new CountDownLatch(1);

  /** Appends this reader's marker to {@code stream}; completes once RabbitMQ confirmed it. */
  public CompletableFuture<Void> append(Broker broker, String stream) {
    byte[] body = Json.MAPPER.writeValueAsBytes(Map.of(FIELD, id));
    return broker.publish("", stream, Message.json(body, Map.of()));
  }

  /**
   * Whether an entry read from the stream is a marker, this reader's or another's; reading this
   * reader's own marker means it has caught up.
   */
  public boolean isMarker(JsonNode entry) {
    if (!entry.has(FIELD)) {
      return false;
    }
    if (id.equals(entry.get(FIELD).asString(null))) {
      read.countDown();
    }
    return true;
  }

  /**
   * Counts as caught up without the marker: when it could not be appended, waiting is pointless.
   */
  public void giveUp() {
    read.countDown();
  }

  /** Whether the reader has read its marker back (or gave up on it). */
  public boolean caughtUp() {
    return read.getCount() == 0;
  }

  /** Waits until {@link #caughtUp()}, at most {@code timeout}; false if it has not by then. */
  public boolean await(Duration timeout) throws InterruptedException {
    return read.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }
}
