package io.lovage.broker;

import io.lovage.protocol.Json;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A stream of JSON records that every replica reads from its start and appends to, the last record
 * of a thing winning: how the schedules ({@code lovage.schedules}) and the tasks' run-time limits
 * ({@code lovage.limits}) are kept, with RabbitMQ as the only store. It tells when it has read what
 * was in the stream when it started ({@link CatchUpMarker}), skips records that are not valid JSON
 * objects or that its reader finds invalid, and can tell when a record it appended was read back,
 * in the stream's order with every other replica's.
 *
 * <pre>{@code
 * broker.declare(LovageTopology.limits());
 * RecordStream limits = new RecordStream(broker, LovageTopology.LIMITS_STREAM, "limits")
 *     .follow(record -> apply(record));
 * limits.appendAndReadBack(record, Duration.ofSeconds(10)).join();
 * }</pre>
 */
public final class RecordStream implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RecordStream.class);

  /** The field of a record that {@link #appendAndReadBack} adds to find it again. */
  private static final String ID = "id";

  private final Broker broker;
  private final String stream;
  private final String what;
  private final CatchUpMarker marker = new CatchUpMarker();
  private final Map<String, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();
  private Subscription subscription;

  /**
   * @param stream the stream, declared by its owner before {@link #follow}
   * @param what what its records are, for the log: {@code "schedules"}, {@code "limits"}
   */
  public RecordStream(Broker broker, String stream, String what) {
    this.broker = broker;
    this.stream = stream;
    this.what = what;
  }

  /**
   * Reads the stream from its start and from now on, giving each record to {@code reader} on the
   * thread that read it. A reader that throws {@link IllegalArgumentException}, {@link
   * java.time.DateTimeException} or {@link JacksonException} for a record has it skipped, with a
   * warning.
   */
  public RecordStream follow(Consumer<JsonNode> reader) {
    subscription =
        broker.consume(
            stream,
            ConsumeOptions.prefetch(500).withArgument("x-stream-offset", "first"),
            delivery -> read(delivery, reader));
    marker
        .append(broker, stream)
        .exceptionally(
            error -> {
              marker.giveUp();
              return null;
            });
    return this;
  }

  /** Whether every record that was in the stream when it started following has been read. */
  public boolean caughtUp() {
    return marker.caughtUp();
  }

  /** Waits until {@link #caughtUp()}, at most {@code timeout}; false if it has not by then. */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return marker.await(timeout);
  }

  /** Appends a record; completes once RabbitMQ confirmed it. */
  public CompletableFuture<Void> append(ObjectNode record) {
    return broker.publish(
        "", stream, Message.json(Json.MAPPER.writeValueAsBytes(record), Map.of()));
  }

  /**
   * Appends a record with an id of its own; completes once this reader has read it back (so its
   * reader has applied it, in the stream's order), or with an error if RabbitMQ did not take it or
   * it was not read back {@code within}. Needs {@link #follow}.
   */
  public CompletableFuture<Void> appendAndReadBack(ObjectNode record, Duration within) {
    String id = UUID.randomUUID().toString();
    record.put(ID, id);
    CompletableFuture<Void> read = new CompletableFuture<>();
    pending.put(id, read);
    append(record)
        .whenComplete(
            (confirmed, error) -> {
              if (error != null) {
                read.completeExceptionally(error);
              }
            });
    return read.orTimeout(within.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((done, error) -> pending.remove(id));
  }

  private void read(Delivery delivery, Consumer<JsonNode> reader) {
    JsonNode record = null;
    try {
      record = Json.MAPPER.readTree(delivery.message().body());
      if (!record.isObject() || marker.isMarker(record)) {
        return;
      }
      reader.accept(record);
    } catch (JacksonException | IllegalArgumentException | java.time.DateTimeException e) {
      log.warn("skipping a {} record that is not valid error={}", what, e.getMessage());
    } finally {
      delivery.ack();
      if (record != null && record.path(ID).isString()) {
        CompletableFuture<Void> read = pending.remove(record.path(ID).asString());
        if (read != null) {
          read.complete(null);
        }
      }
    }
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
  }
}
