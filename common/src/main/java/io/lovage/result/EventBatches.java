package io.lovage.result;

import io.lovage.broker.Broker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Group commit for task events: one publish in flight at a time, and the events that arrive while
 * it waits for its confirm go out together in the next one, as a JSON array with routing key {@code
 * task.multi}, the batch Celery's workers send and Celery's event receivers (Flower, {@code celery
 * events}) read. A lone event goes out as itself, with its own routing key, so at a light load
 * nothing waits and nothing changes on the wire; under load the broker stores one message for many
 * events instead of one each.
 *
 * <p>With a {@code spacing}, a batch that emptied the queue is followed no sooner than that after
 * it: under a steady load fewer, larger messages, for a sender whose events nobody waits for. At a
 * REST producer's 10,000 task-sent events a second, 20 ms cut RabbitMQ's CPU per task by about a
 * quarter (docs/benchmarks.md). A batch cut short by {@link #MAX_EVENTS} or {@link #MAX_BYTES} is
 * followed at once, so the spacing never makes events pile up.
 *
 * <p>Each event's future completes when the message that carried it is confirmed. Events keep their
 * order: one batch at a time, oldest first.
 */
final class EventBatches {
  static final String BATCH_ROUTING_KEY = "task.multi";

  /** At most this many events in one message. */
  static final int MAX_EVENTS = 1_000;

  /** And at most about this many bytes. */
  static final int MAX_BYTES = 256 * 1024;

  private record Pending(String routingKey, byte[] json, CompletableFuture<Void> confirmed) {}

  private final Broker broker;
  private final Map<String, Object> headers;
  private final long spacingNanos;

  /**
   * Confirms complete on the broker client's thread; the next batch is published, and the events'
   * futures completed, on a thread of ours, so callers' follow-up work never runs there.
   */
  private final Executor continuation =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("lovage-events-", 0).factory());

  private final ArrayDeque<Pending> waiting = new ArrayDeque<>();
  private boolean publishing;

  /** When the last batch was published ({@link System#nanoTime}). */
  private long lastPublished;

  /** The future of the event published last: batches settle in order, so it settles last. */
  private CompletableFuture<Void> latest = CompletableFuture.completedFuture(null);

  EventBatches(Broker broker, Map<String, Object> headers) {
    this(broker, headers, Duration.ZERO);
  }

  EventBatches(Broker broker, Map<String, Object> headers, Duration spacing) {
    this.broker = broker;
    this.headers = Map.copyOf(headers);
    this.spacingNanos = spacing.toNanos();
    this.lastPublished = System.nanoTime() - spacingNanos;
  }

  CompletableFuture<Void> publish(String routingKey, byte[] json) {
    Pending pending = new Pending(routingKey, json, new CompletableFuture<>());
    synchronized (this) {
      waiting.add(pending);
      latest = pending.confirmed;
      if (publishing) {
        return pending.confirmed;
      }
      publishing = true;
    }
    publishSpaced();
    return pending.confirmed;
  }

  /** {@link #publishNext} now, or once the spacing since the last batch has passed. */
  private void publishSpaced() {
    long wait;
    synchronized (this) {
      wait = lastPublished + spacingNanos - System.nanoTime();
    }
    if (wait <= 0) {
      publishNext();
    } else {
      CompletableFuture.delayedExecutor(wait, TimeUnit.NANOSECONDS, continuation)
          .execute(this::publishNext);
    }
  }

  /**
   * Completes, never exceptionally, once every event published before the call is confirmed or has
   * failed: what a graceful stop waits for before the broker's connection closes.
   */
  CompletableFuture<Void> settled() {
    CompletableFuture<Void> last;
    synchronized (this) {
      last = latest;
    }
    return last.handle((ok, error) -> null);
  }

  /** Publishes what waits, as one message; when it is confirmed, the next. */
  private void publishNext() {
    List<Pending> batch = new ArrayList<>();
    boolean cutShort;
    synchronized (this) {
      int bytes = 0;
      while (!waiting.isEmpty()
          && batch.size() < MAX_EVENTS
          && (batch.isEmpty() || bytes + waiting.peek().json.length <= MAX_BYTES)) {
        Pending next = waiting.poll();
        bytes += next.json.length + 1;
        batch.add(next);
      }
      if (batch.isEmpty()) {
        publishing = false;
        return;
      }
      lastPublished = System.nanoTime();
      cutShort = !waiting.isEmpty();
    }
    CompletableFuture<Void> confirmed;
    try {
      confirmed =
          batch.size() == 1
              ? broker.publish(
                  LovageTopology.EVENT_EXCHANGE,
                  batch.get(0).routingKey,
                  Message.json(batch.get(0).json, headers))
              : broker.publish(
                  LovageTopology.EVENT_EXCHANGE,
                  BATCH_ROUTING_KEY,
                  Message.json(array(batch), headers));
    } catch (RuntimeException e) {
      confirmed = CompletableFuture.failedFuture(e);
    }
    confirmed.whenCompleteAsync(
        (ok, error) -> {
          for (Pending p : batch) {
            if (error == null) {
              p.confirmed.complete(null);
            } else {
              p.confirmed.completeExceptionally(error);
            }
          }
          if (cutShort) {
            publishNext();
          } else {
            publishSpaced();
          }
        },
        continuation);
  }

  private static byte[] array(List<Pending> batch) {
    ByteArrayOutputStream out =
        new ByteArrayOutputStream(batch.stream().mapToInt(p -> p.json.length + 1).sum() + 1);
    out.write('[');
    for (int i = 0; i < batch.size(); i++) {
      if (i > 0) {
        out.write(',');
      }
      out.writeBytes(batch.get(i).json);
    }
    out.write(']');
    return out.toByteArray();
  }
}
