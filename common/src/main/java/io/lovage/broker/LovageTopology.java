package io.lovage.broker;

import java.util.List;
import java.util.Map;

/**
 * The one place where Lovage's exchanges, queues and their arguments are defined.
 *
 * <p>Task queues follow Celery's defaults (a direct exchange {@code celery}, the routing key is the
 * queue name) so that a Celery app shares them with few settings. They are quorum queues: durable,
 * replicated, with a delivery limit that sends a message which keeps killing its worker to the
 * queue's dead-letter queue. Task events go to Celery's {@code celeryev} topic exchange and are
 * kept in the stream {@code lovage.events}, which is where results and states are read from.
 */
public final class LovageTopology {
  public static final String DEFAULT_QUEUE = "celery";
  public static final String TASK_EXCHANGE = "celery";
  public static final String DEAD_LETTER_EXCHANGE = "lovage.dead-letter";
  public static final String DEAD_LETTER_SUFFIX = ".dead-letter";
  public static final String EVENT_EXCHANGE = "celeryev";
  public static final String EVENT_STREAM = "lovage.events";

  /** Deliveries of one message before the queue dead-letters it (a worker died each time). */
  public static final int DELIVERY_LIMIT = 10;

  /** How long task events, and so states and results, are kept. */
  public static final String EVENT_RETENTION = "24h";

  public static final long EVENT_STREAM_MAX_BYTES = 2_000_000_000L;
  public static final long EVENT_STREAM_SEGMENT_BYTES = 50_000_000L;

  private LovageTopology() {}

  /** The name of the dead-letter queue of a task queue. */
  public static String deadLetterQueue(String queue) {
    return queue + DEAD_LETTER_SUFFIX;
  }

  /** A task queue, its dead-letter queue and the exchanges they hang on. */
  public static Topology taskQueue(String queue) {
    return new Topology(
        List.of(
            new Topology.Exchange(TASK_EXCHANGE, "direct"),
            new Topology.Exchange(DEAD_LETTER_EXCHANGE, "direct")),
        List.of(
            new Topology.Queue(
                queue,
                Map.of(
                    "x-queue-type", "quorum",
                    "x-delivery-limit", DELIVERY_LIMIT,
                    "x-dead-letter-exchange", DEAD_LETTER_EXCHANGE,
                    "x-dead-letter-routing-key", queue)),
            new Topology.Queue(deadLetterQueue(queue), Map.of("x-queue-type", "quorum"))),
        List.of(
            new Topology.Binding(TASK_EXCHANGE, queue, queue),
            new Topology.Binding(DEAD_LETTER_EXCHANGE, deadLetterQueue(queue), queue)));
  }

  /** The event exchange and the stream that keeps task events for {@link #EVENT_RETENTION}. */
  public static Topology events() {
    return new Topology(
        List.of(new Topology.Exchange(EVENT_EXCHANGE, "topic")),
        List.of(
            new Topology.Queue(
                EVENT_STREAM,
                Map.of(
                    "x-queue-type", "stream",
                    "x-max-age", EVENT_RETENTION,
                    "x-max-length-bytes", EVENT_STREAM_MAX_BYTES,
                    "x-stream-max-segment-size-bytes", EVENT_STREAM_SEGMENT_BYTES))),
        List.of(new Topology.Binding(EVENT_EXCHANGE, EVENT_STREAM, "task.#")));
  }

  /** Everything a worker or producer using these task queues needs. */
  public static Topology forQueues(List<String> queues) {
    Topology topology = events();
    for (String queue : queues) {
      topology = topology.plus(taskQueue(queue));
    }
    return topology;
  }
}
