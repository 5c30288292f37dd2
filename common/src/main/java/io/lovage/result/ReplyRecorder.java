package io.lovage.result;

import io.lovage.TaskError;
import io.lovage.broker.Broker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.Subscription;
import io.lovage.broker.Topology;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;

/**
 * Records outcomes that arrive only as rpc replies: a Celery worker started without task events
 * ({@code -E}) sends no task-succeeded or task-failed, but with Celery's {@code rpc://} backend it
 * answers the task's {@code reply_to}. A service sends its tasks with {@link #queue()} as their
 * {@code reply_to}; when a final reply comes and, after a grace period, the outcome is still not
 * known (no worker event recorded it), this records it as the task event a worker would have sent,
 * into the event stream, so every replica of the service sees it. Lovage workers record their own
 * events and do not answer such a reply queue at all ({@link #recordsEvents}).
 */
public final class ReplyRecorder implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReplyRecorder.class);

  /** The name prefix of reply queues whose owner records outcomes from task events anyway. */
  public static final String QUEUE_PREFIX = "lovage.recorded-replies.";

  /** How long an unused reply queue outlives its service (RabbitMQ's {@code x-expires}). */
  static final Duration QUEUE_EXPIRY = Duration.ofHours(1);

  /**
   * How long a reply waits for the worker's own event before it is recorded: a Celery worker with
   * {@code -E} sends both, and its event usually comes first.
   */
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(2);

  private final Broker broker;
  private final TaskEvents events;
  private final EventStreamResultStore records;
  private final Duration grace;
  private final String queue = QUEUE_PREFIX + UUID.randomUUID();
  private final java.util.concurrent.atomic.AtomicLong recordedCount =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong knownCount =
      new java.util.concurrent.atomic.AtomicLong();
  private Subscription subscription;

  /**
   * @param records the service's index of task states, which tells whether a worker event recorded
   *     the outcome already
   */
  public ReplyRecorder(
      Broker broker, TaskEvents events, EventStreamResultStore records, Duration grace) {
    this.broker = broker;
    this.events = events;
    this.records = records;
    this.grace = grace;
  }

  /**
   * Whether a worker need not answer {@code replyTo}: it is such a queue, whose owner reads the
   * worker's task events.
   */
  public static boolean recordsEvents(String replyTo) {
    return replyTo != null && replyTo.startsWith(QUEUE_PREFIX);
  }

  /**
   * Declares the reply queue and consumes it. The queue is transient, exclusive to the connection:
   * after a reconnect the client declares it again on whichever node it reached. (A durable one
   * lives on one node: when that node of a cluster was lost, it could not be declared again, nor
   * consumed, until the node came back, and retrying held up the recovery of every other consumer
   * of the connection for two minutes.) Replies sent while the service is disconnected are lost;
   * they only matter for Celery workers that send no task events.
   */
  public ReplyRecorder start() {
    broker.declare(
        new Topology(
            List.of(),
            List.of(new Topology.Queue(queue, false, Map.of("x-queue-type", "classic"))),
            List.of()));
    subscription = broker.consume(queue, ConsumeOptions.prefetch(256), this::onReply);
    return this;
  }

  /** The {@code reply_to} for tasks whose outcome this records. */
  public String queue() {
    return queue;
  }

  private void onReply(Delivery delivery) {
    try {
      RpcReplies.read(
              Json.MAPPER.readTree(delivery.message().body()), delivery.message().correlationId())
          .ifPresent(
              outcome ->
                  CompletableFuture.runAsync(
                      () -> recordIfUnknown(outcome),
                      CompletableFuture.delayedExecutor(grace.toMillis(), TimeUnit.MILLISECONDS)));
    } catch (JacksonException e) {
      log.warn("ignoring a reply that is not JSON error={}", e.getOriginalMessage());
    } finally {
      delivery.ack();
    }
  }

  private void recordIfUnknown(RpcReplies.Outcome outcome) {
    String id = outcome.taskId();
    java.util.Optional<TaskRecord> record =
        id == null ? java.util.Optional.empty() : records.find(id);
    if (id == null || record.map(r -> r.state().isFinal()).orElse(false)) {
      knownCount.incrementAndGet();
      return;
    }
    String name = record.map(TaskRecord::task).filter(t -> !t.isBlank()).orElse("unknown");
    TaskMessage task = TaskMessage.builder(name).id(id).build();
    CompletableFuture<Void> recorded;
    if (outcome.error() == null) {
      recorded = events.succeeded(task, outcome.result(), 0.0, null);
    } else if ("TaskRevokedError".equals(outcome.error().type())) {
      recorded = events.revoke(id, name, outcome.error().remoteMessage(), false, false);
    } else {
      var error = outcome.error();
      recorded =
          events.failed(
              task,
              new TaskError(error.type(), null, error.remoteMessage(), error.remoteTraceback()),
              0.0,
              null);
    }
    recorded.whenComplete(
        (done, failure) -> {
          if (failure != null) {
            log.warn("outcome from a reply not recorded task_id={} error={}", id, failure);
          } else {
            recordedCount.incrementAndGet();
            log.debug("outcome recorded from its rpc reply task_id={}", id);
          }
        });
  }

  /** Outcomes recorded from replies, because no worker event had. */
  public long recorded() {
    return recordedCount.get();
  }

  /** Final replies for outcomes a worker event had recorded already. */
  public long known() {
    return knownCount.get();
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
  }
}
