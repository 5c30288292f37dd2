package io.lovage.worker;

import io.lovage.broker.Broker;
import io.lovage.broker.CatchUpMarker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.Subscription;
import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import io.lovage.protocol.TaskMessage;
import io.lovage.workflow.CanvasSender;
import io.lovage.workflow.ChordParts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The chord join. Every worker consumes the chord queue, but RabbitMQ delivers to one at a time
 * (single active consumer); that worker holds each chord's parts unacknowledged until all header
 * results are in (or one failed), then sends the body (or records it FAILURE with {@code
 * ChordError}), appends the chord to the done stream, and only then acknowledges the parts. So the
 * join state is always in RabbitMQ: if the joining worker dies, the broker hands every part to the
 * next one, which joins again; a part of a chord already done (a header task that ran twice) is
 * dropped. The body's id is fixed when the chord is created.
 *
 * <p>To hold few deliveries (and none near RabbitMQ's consumer timeout), the parts of a chord are
 * folded into one message of the chord queue once {@link #FOLD_AT} are held or the oldest has been
 * held {@link #FOLD_AFTER}: published first, the folded parts acknowledged after.
 */
final class ChordJoiner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ChordJoiner.class);

  /** Parts delivered at once to the joining worker. */
  static final int PREFETCH = 5_000;

  /** Held parts of one chord folded into one message. */
  static final int FOLD_AT = 1_000;

  /** A held part older than this is folded (RabbitMQ's consumer timeout is 30 minutes). */
  static final Duration FOLD_AFTER = Duration.ofMinutes(5);

  /** Chords remembered as done, besides the done stream's retention. */
  static final int MAX_DONE = 1_000_000;

  private static final Duration DONE_CATCH_UP = Duration.ofSeconds(15);
  private static final Duration RETRY = Duration.ofSeconds(1);

  private final Broker broker;
  private final CanvasSender sender;
  private final CatchUpMarker marker = new CatchUpMarker();
  private final Map<String, Join> joins = new HashMap<>();
  private final Set<String> done =
      Collections.newSetFromMap(
          new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
              return size() > MAX_DONE;
            }
          });
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("lovage-chords").daemon(true).factory());
  private final List<Subscription> subscriptions = new ArrayList<>();
  private volatile boolean closed;

  /** One chord being joined: what is known of it and the deliveries that hold it in RabbitMQ. */
  private static final class Join {
    ChordParts state;
    final List<Delivery> held = new ArrayList<>();
    long oldestHeldNanos = System.nanoTime();
    boolean busy;

    Join(ChordParts state) {
      this.state = state;
    }
  }

  ChordJoiner(Broker broker, CanvasSender sender) {
    this.broker = broker;
    this.sender = sender;
  }

  /**
   * Reads the done stream to its end (at most 15 s), then consumes the chord queue. Not holding
   * this object's lock while it waits: reading the done stream takes it.
   */
  void start() {
    Subscription doneReader =
        broker.consume(
            LovageTopology.CHORD_DONE_STREAM,
            ConsumeOptions.prefetch(1_000).withArgument("x-stream-offset", "first"),
            this::onDone);
    synchronized (this) {
      subscriptions.add(doneReader);
    }
    try {
      marker.append(broker, LovageTopology.CHORD_DONE_STREAM).get(15, TimeUnit.SECONDS);
      if (!marker.await(DONE_CATCH_UP)) {
        log.warn("finished chords not read to the end within {}", DONE_CATCH_UP);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("could not mark the end of the finished chords error={}", e.toString());
    }
    Subscription parts =
        broker.consume(LovageTopology.CHORD_QUEUE, ConsumeOptions.prefetch(PREFETCH), this::onPart);
    synchronized (this) {
      subscriptions.add(parts);
    }
    timer.scheduleAtFixedRate(this::foldOld, 10, 10, TimeUnit.SECONDS);
  }

  private void onDone(Delivery delivery) {
    try {
      JsonNode entry = Json.MAPPER.readTree(delivery.message().body());
      String chord = entry.path("chord").asString(null);
      if (!marker.isMarker(entry) && chord != null) {
        synchronized (this) {
          done.add(chord);
        }
      }
    } catch (JacksonException e) {
      log.warn("skipping a finished-chord entry that is not JSON error={}", e.getOriginalMessage());
    } finally {
      delivery.ack();
    }
  }

  private synchronized void onPart(Delivery delivery) {
    if (closed) {
      delivery.requeue();
      return;
    }
    ChordParts parts;
    try {
      parts = ChordParts.fromMessage(delivery.message());
    } catch (RuntimeException e) {
      log.error("dropping a chord part that cannot be read reason=\"{}\"", e.getMessage());
      delivery.ack();
      return;
    }
    if (done.contains(parts.chord())) {
      log.debug("chord part after the chord was done, dropped group={}", parts.chord());
      delivery.ack();
      return;
    }
    Join join = joins.get(parts.chord());
    if (join == null) {
      join = new Join(parts);
      joins.put(parts.chord(), join);
    } else {
      join.state = join.state.merge(parts);
    }
    if (join.held.isEmpty()) {
      join.oldestHeldNanos = System.nanoTime();
    }
    join.held.add(delivery);
    if (join.busy) {
      return;
    }
    if (join.state.decided()) {
      finish(join);
    } else if (join.held.size() >= FOLD_AT) {
      fold(join);
    }
  }

  /**
   * Sends the body with the results in header order, or fails it; then done, then the acks. Only
   * while this worker still holds every part it joined: see {@link #giveBack}.
   */
  private void finish(Join join) {
    if (!join.held.stream().allMatch(Delivery::held)) {
      giveBack(join);
      return;
    }
    join.busy = true;
    ChordParts state = join.state;
    JsonNode body = state.body();
    TaskMessage parent =
        TaskMessage.builder("celery.chord").id(state.chord()).rootId(state.rootId()).build();
    CompletableFuture<Void> decided;
    if (state.failure() == null) {
      log.info("chord complete, body sent group={} size={}", state.chord(), state.size());
      decided = sender.send(body, state.orderedResults(), List.of(), parent, state.queue());
    } else {
      log.info(
          "chord failed group={} dependency={} error={}",
          state.chord(),
          state.failure().taskId(),
          state.failure().error().type());
      decided =
          sender
              .fail(body, state.chordError(), parent)
              .thenCompose(
                  ok ->
                      sender.sendErrbacks(
                          body,
                          SignatureDict.taskId(SignatureDict.firstTask(body)),
                          state.queue()));
    }
    decided
        .thenCompose(ok -> broker.publish("", LovageTopology.CHORD_DONE_STREAM, doneEntry(state)))
        .whenComplete(
            (ok, error) -> {
              synchronized (this) {
                if (error != null) {
                  log.warn(
                      "chord body not sent, trying again group={} error={}",
                      state.chord(),
                      error.toString());
                  join.busy = false;
                  retryLater(join);
                  return;
                }
                done.add(state.chord());
                joins.remove(state.chord());
                join.held.forEach(Delivery::ack);
                join.held.clear();
              }
            });
  }

  /** Publishes the held parts as one message, then acknowledges them. */
  private void fold(Join join) {
    join.busy = true;
    List<Delivery> folded = List.copyOf(join.held);
    ChordParts state = join.state;
    broker
        .publish("", LovageTopology.CHORD_QUEUE, state.toMessage())
        .whenComplete(
            (ok, error) -> {
              synchronized (this) {
                join.busy = false;
                if (error != null) {
                  log.warn(
                      "chord parts not folded group={} error={}", state.chord(), error.toString());
                  return;
                }
                log.debug("chord parts folded group={} parts={}", state.chord(), folded.size());
                folded.forEach(Delivery::ack);
                join.held.removeAll(folded);
                join.oldestHeldNanos = System.nanoTime();
                if (join.state.decided()) {
                  finish(join);
                }
              }
            });
  }

  /**
   * Gives up a join whose parts the broker took back: a channel they came on went down, so RabbitMQ
   * requeued them, to be delivered to whichever worker is the chord queue's active consumer by now.
   * That worker joins the chord and sends the body; sending it here too, from what this worker
   * still remembers (a retry after a broker restart did), ran the body twice. The parts still held
   * go back to the queue as well, so that the chord is joined again whole.
   */
  private void giveBack(Join join) {
    log.info(
        "chord parts taken back by the broker, joined again where they are delivered group={}",
        join.state.chord());
    joins.remove(join.state.chord());
    join.held.stream().filter(Delivery::held).forEach(Delivery::requeue);
    join.held.clear();
  }

  private void retryLater(Join join) {
    if (!closed) {
      timer.schedule(
          () -> {
            synchronized (this) {
              if (!join.busy && !closed && joins.get(join.state.chord()) == join) {
                finish(join);
              }
            }
          },
          RETRY.toMillis(),
          TimeUnit.MILLISECONDS);
    }
  }

  private synchronized void foldOld() {
    long now = System.nanoTime();
    for (Join join : joins.values()) {
      if (!join.busy && !join.held.isEmpty() && now - join.oldestHeldNanos > FOLD_AFTER.toNanos()) {
        fold(join);
      }
    }
  }

  private static Message doneEntry(ChordParts state) {
    var entry = Json.MAPPER.createObjectNode();
    entry.put("chord", state.chord());
    entry.put("failed", state.failure() != null);
    return new Message(
        Json.MAPPER.writeValueAsBytes(entry),
        Map.of(),
        "application/json",
        "utf-8",
        state.chord(),
        null,
        0,
        true);
  }

  /** Stops joining; held parts go back to the queue for the next joining worker. */
  @Override
  public synchronized void close() {
    closed = true;
    timer.shutdownNow();
    subscriptions.forEach(Subscription::close);
    subscriptions.clear();
    for (Join join : joins.values()) {
      if (!join.busy) {
        join.held.forEach(Delivery::requeue);
        join.held.clear();
      }
    }
    joins.clear();
  }
}
