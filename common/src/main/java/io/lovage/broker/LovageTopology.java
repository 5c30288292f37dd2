package io.lovage.broker;

import java.util.List;
import java.util.Map;

/**
 * The one place where Lovage's exchanges, queues and their arguments are defined.
 *
 * <p>Task queues follow Celery's defaults (a direct exchange {@code celery}, the routing key is the
 * queue name) so that a Celery app shares them with few settings. They are quorum queues: durable,
 * replicated, with a delivery limit that sends a message which keeps killing its worker to the
 * queue's dead-letter queue, a stream that keeps dead letters for {@link #DEAD_LETTER_RETENTION} so
 * they can be listed, replayed and deleted without being consumed. Task events go to Celery's
 * {@code celeryev} topic exchange and are kept in the stream {@code lovage.events}, which is where
 * results and states are read from.
 */
public final class LovageTopology {
  public static final String DEFAULT_QUEUE = "celery";
  public static final String TASK_EXCHANGE = "celery";
  public static final String DEAD_LETTER_EXCHANGE = "lovage.dead-letter";
  public static final String DEAD_LETTER_SUFFIX = ".dead-letter";
  public static final String EVENT_EXCHANGE = "celeryev";
  public static final String EVENT_STREAM = "lovage.events";

  /**
   * Revocations (task-revoked events) kept as long as the events, which every worker reads from its
   * start: a revoked task never runs later, also on a worker that starts after the revocation.
   */
  public static final String REVOCATION_STREAM = "lovage.revocations";

  /**
   * Chord parts: each header task's final outcome, published by its worker before it acknowledges
   * the task. Every worker consumes this queue, one at a time (single active consumer): that one
   * joins the parts and sends the chord's body once all are in. A quorum queue, so parts survive a
   * broker restart and, in a cluster, a node.
   */
  public static final String CHORD_QUEUE = "lovage.chords";

  /**
   * The chords whose body has been sent (or failed), by group id, kept {@link #CHORD_RETENTION}: a
   * part of one that arrives later (a header task run twice) is dropped, even after the joining
   * worker changed.
   */
  public static final String CHORD_DONE_STREAM = "lovage.chords.done";

  /** How long {@link #CHORD_DONE_STREAM} remembers a finished chord. */
  public static final String CHORD_RETENTION = "7D";

  /**
   * Redeliveries of a chord part before the queue drops it: only a change of joining worker
   * redelivers parts, so this is far above the task queues' limit (RabbitMQ 4.x would otherwise
   * apply its default of 20).
   */
  public static final int CHORD_DELIVERY_LIMIT = 100_000;

  /**
   * The delay ladder, Celery 5.5's native delayed delivery to the letter (names, TTLs, arguments,
   * routing keys; kombu's {@code transport/native_delayed_delivery.py}), so that Lovage and Celery
   * 5.5 share one: level i is a topic exchange and a queue {@code celery_delayed_<i>} whose
   * messages wait 2^i seconds, then dead-letter to level i-1. A message's routing key is its delay
   * in seconds as 28 bits, most significant first, then its task queue's routing key; each level
   * keeps it only if its bit is 1. After level 0 it reaches {@link #DELAY_DELIVERY_EXCHANGE}, which
   * routes it to its task queue. Waiting tasks stay in RabbitMQ, never in a worker.
   */
  public static final String DELAY_EXCHANGE_PREFIX = "celery_delayed_";

  public static final String DELAY_DELIVERY_EXCHANGE = "celery_delayed_delivery";
  public static final int DELAY_LEVELS = 28;

  /** The longest delay the ladder holds: 2^28 - 1 seconds, about 8.5 years. */
  public static final long MAX_DELAY_SECONDS = (1L << DELAY_LEVELS) - 1;

  /**
   * Task priorities run from 0 to this: classic queues honour every level, quorum queues on
   * RabbitMQ 4.0–4.2 two ({@link #URGENT_PRIORITY} and above before the rest), on 3.x none (there
   * Lovage sends urgent tasks to the queue's {@link #urgentLane}).
   */
  public static final int MAX_PRIORITY = 9;

  /**
   * Tasks of this priority and above are urgent: RabbitMQ 4.0's quorum queues deliver them before
   * the rest, and on 3.x they go to their queue's {@link #urgentLane}.
   */
  public static final int URGENT_PRIORITY = 5;

  /**
   * The prefix of urgent lanes: in Lovage's own names, so a lane never takes the name of a queue of
   * the user's or of Celery's.
   */
  public static final String URGENT_LANE_PREFIX = "lovage.urgent.";

  /** Deliveries of one message before the queue dead-letters it (a worker died each time). */
  public static final int DELIVERY_LIMIT = 10;

  /** How long task events, and so states and results, are kept. */
  public static final String EVENT_RETENTION = "24h";

  /** How long dead letters are kept (the dead-letter queues are streams: browsable, replayable). */
  public static final String DEAD_LETTER_RETENTION = "7D";

  public static final long DEAD_LETTER_MAX_BYTES = 1_000_000_000L;
  public static final long EVENT_STREAM_MAX_BYTES = 2_000_000_000L;
  public static final long EVENT_STREAM_SEGMENT_BYTES = 50_000_000L;

  private LovageTopology() {}

  private static final java.util.regex.Pattern QUEUE_NAME =
      java.util.regex.Pattern.compile("[\\w.:\\-]{1,200}");

  /**
   * Whether a client may name this queue: 1 to 200 letters, digits, '.', '_', ':' or '-', and not
   * RabbitMQ's own {@code amq.} names.
   */
  public static boolean isValidQueueName(String name) {
    return name != null && QUEUE_NAME.matcher(name).matches() && !name.startsWith("amq.");
  }

  /**
   * The dead-letter queue of a task queue: a stream, so dead letters can be listed and replayed
   * without being consumed. Workers publish to it directly.
   */
  public static String deadLetterQueue(String queue) {
    return queue + DEAD_LETTER_SUFFIX;
  }

  /**
   * Where RabbitMQ itself dead-letters a task queue's messages (delivery limit, rejects): a quorum
   * queue, because RabbitMQ 3.10 does not dead-letter into streams. Workers move what arrives here
   * into {@link #deadLetterQueue}, with the reason RabbitMQ gave.
   */
  public static String brokerDeadLetterQueue(String queue) {
    return queue + DEAD_LETTER_SUFFIX + ".broker";
  }

  /** A quorum task queue, its dead-letter queue and the exchanges they hang on. */
  public static Topology taskQueue(String queue) {
    return taskQueue(queue, QueueType.QUORUM);
  }

  /** A task queue of the given type, its dead-letter queue and the exchanges they hang on. */
  public static Topology taskQueue(String queue, QueueType type) {
    return new Topology(
        TASK_QUEUE_EXCHANGES,
        List.of(
            new Topology.Queue(queue, taskQueueArguments(queue, type)),
            new Topology.Queue(brokerDeadLetterQueue(queue), Map.of("x-queue-type", "quorum")),
            new Topology.Queue(
                deadLetterQueue(queue),
                Map.of(
                    "x-queue-type", "stream",
                    "x-max-age", DEAD_LETTER_RETENTION,
                    "x-max-length-bytes", DEAD_LETTER_MAX_BYTES,
                    "x-stream-max-segment-size-bytes", EVENT_STREAM_SEGMENT_BYTES))),
        List.of(
            new Topology.Binding(TASK_EXCHANGE, queue, queue),
            new Topology.Binding(DELAY_DELIVERY_EXCHANGE, queue, delayDeliveryKey(queue)),
            new Topology.Binding(DEAD_LETTER_EXCHANGE, brokerDeadLetterQueue(queue), queue)));
  }

  private static final List<Topology.Exchange> TASK_QUEUE_EXCHANGES =
      List.of(
          new Topology.Exchange(TASK_EXCHANGE, "direct"),
          new Topology.Exchange(DEAD_LETTER_EXCHANGE, "direct"),
          new Topology.Exchange(DELAY_DELIVERY_EXCHANGE, "topic"));

  /** A task queue's arguments; its dead letters go to {@code deadLettersOf}'s. */
  private static Map<String, Object> taskQueueArguments(String deadLettersOf, QueueType type) {
    Map<String, Object> arguments = new java.util.LinkedHashMap<>();
    arguments.put("x-queue-type", type.argument());
    if (type == QueueType.QUORUM) {
      arguments.put("x-delivery-limit", DELIVERY_LIMIT);
    } else {
      // Classic queues order by priority 0-9 (quorum queues: two levels on 4.x, none on 3.x).
      arguments.put("x-max-priority", MAX_PRIORITY);
    }
    arguments.put("x-dead-letter-exchange", DEAD_LETTER_EXCHANGE);
    arguments.put("x-dead-letter-routing-key", deadLettersOf);
    return arguments;
  }

  /** The binding key that the delay ladder delivers a queue's delayed messages with. */
  private static String delayDeliveryKey(String queue) {
    return "*.".repeat(DELAY_LEVELS) + queue;
  }

  /**
   * The urgent lane of a quorum task queue, {@code lovage.urgent.<queue>}: where tasks of priority
   * {@link #URGENT_PRIORITY} and above for it go on RabbitMQ 3.x, whose quorum queues ignore
   * priorities (see {@link TaskQueues}).
   */
  public static String urgentLane(String queue) {
    return URGENT_LANE_PREFIX + queue;
  }

  /**
   * A quorum task queue's {@link #urgentLane}: a quorum queue with the queue's arguments, whose
   * dead letters (delivery limit, rejects) join the queue's, reached from the task exchange and the
   * delay ladder under its own name. Declared after the queue's {@link #taskQueue}.
   */
  public static Topology urgentLaneOf(String queue) {
    String lane = urgentLane(queue);
    return new Topology(
        TASK_QUEUE_EXCHANGES,
        List.of(new Topology.Queue(lane, taskQueueArguments(queue, QueueType.QUORUM))),
        List.of(
            new Topology.Binding(TASK_EXCHANGE, lane, lane),
            new Topology.Binding(DELAY_DELIVERY_EXCHANGE, lane, delayDeliveryKey(lane))));
  }

  /** The exchange of delay level {@code level}, 0 to 27; a delayed message enters at the top. */
  public static String delayLevel(int level) {
    return DELAY_EXCHANGE_PREFIX + level;
  }

  /** The routing key that delays a message by {@code seconds} on its way to {@code queue}. */
  public static String delayRoutingKey(long seconds, String queue) {
    if (seconds < 1 || seconds > MAX_DELAY_SECONDS) {
      throw new IllegalArgumentException(
          "a delay must be between 1 and " + MAX_DELAY_SECONDS + " seconds, got " + seconds);
    }
    StringBuilder key = new StringBuilder();
    for (int bit = DELAY_LEVELS - 1; bit >= 0; bit--) {
      key.append((seconds >> bit) & 1).append('.');
    }
    return key.append(queue).toString();
  }

  /** The 28 levels of the delay ladder and the exchange that delivers from it. */
  public static Topology delays() {
    List<Topology.Exchange> exchanges = new java.util.ArrayList<>();
    List<Topology.Queue> queues = new java.util.ArrayList<>();
    List<Topology.Binding> bindings = new java.util.ArrayList<>();
    for (int level = DELAY_LEVELS - 1; level >= 0; level--) {
      String name = delayLevel(level);
      String next = level > 0 ? delayLevel(level - 1) : DELAY_DELIVERY_EXCHANGE;
      String higherBits = "*.".repeat(DELAY_LEVELS - 1 - level);
      exchanges.add(new Topology.Exchange(name, "topic"));
      queues.add(
          new Topology.Queue(
              name,
              Map.of(
                  "x-queue-type", "quorum",
                  "x-message-ttl", (1L << level) * 1000,
                  "x-dead-letter-exchange", next,
                  // Dead-lettering from quorum queues is at-least-once only with reject-publish.
                  "x-dead-letter-strategy", "at-least-once",
                  "x-overflow", "reject-publish")));
      bindings.add(new Topology.Binding(name, name, higherBits + "1.#"));
      bindings.add(new Topology.Binding(name, next, higherBits + "0.#", true));
    }
    exchanges.add(new Topology.Exchange(DELAY_DELIVERY_EXCHANGE, "topic"));
    return new Topology(exchanges, queues, bindings);
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
                    "x-stream-max-segment-size-bytes", EVENT_STREAM_SEGMENT_BYTES)),
            new Topology.Queue(
                REVOCATION_STREAM,
                Map.of(
                    "x-queue-type", "stream",
                    "x-max-age", EVENT_RETENTION,
                    "x-stream-max-segment-size-bytes", EVENT_STREAM_SEGMENT_BYTES))),
        List.of(
            new Topology.Binding(EVENT_EXCHANGE, EVENT_STREAM, "task.#"),
            new Topology.Binding(EVENT_EXCHANGE, REVOCATION_STREAM, "task.revoked")));
  }

  /** Everything a worker or producer using these task queues needs. */
  public static Topology forQueues(List<String> queues) {
    return forQueues(queues, QueueType.QUORUM);
  }

  /** The chord join: {@link #CHORD_QUEUE} and {@link #CHORD_DONE_STREAM}. */
  public static Topology chords() {
    return new Topology(
        List.of(),
        List.of(
            new Topology.Queue(
                CHORD_QUEUE,
                Map.of(
                    "x-queue-type",
                    "quorum",
                    "x-single-active-consumer",
                    true,
                    "x-delivery-limit",
                    CHORD_DELIVERY_LIMIT)),
            new Topology.Queue(
                CHORD_DONE_STREAM,
                Map.of(
                    "x-queue-type", "stream",
                    "x-max-age", CHORD_RETENTION,
                    "x-stream-max-segment-size-bytes", EVENT_STREAM_SEGMENT_BYTES))),
        List.of());
  }

  /** Schedule definitions and the scheduler's snapshots of last runs: read from the start. */
  public static final String SCHEDULE_STREAM = "lovage.schedules";

  /**
   * Every run a scheduler sent: the task message itself, copied there by RabbitMQ in the same
   * publish that puts it in its task queue ({@code BCC} with this routing key on {@link
   * #TASK_EXCHANGE}), so a run is recorded if and only if it was sent.
   */
  public static final String SCHEDULE_RUNS_STREAM = "lovage.schedule.runs";

  /**
   * The scheduler's lease: a quorum queue with a single active consumer holding one message. The
   * replica whose consumer holds it unacknowledged leads; when it dies, RabbitMQ hands the message
   * to the next consumer.
   */
  public static final String SCHEDULER_QUEUE = "lovage.scheduler";

  /** Runs are kept this long in {@link #SCHEDULE_RUNS_STREAM}. */
  public static final String SCHEDULE_RUNS_RETENTION = "1D";

  /** The streams and the lease queue of periodic tasks. */
  public static Topology schedules() {
    return new Topology(
        List.of(new Topology.Exchange(TASK_EXCHANGE, "direct")),
        List.of(
            new Topology.Queue(
                SCHEDULE_STREAM,
                Map.of(
                    "x-queue-type", "stream",
                    "x-max-length-bytes", DEAD_LETTER_MAX_BYTES,
                    "x-stream-max-segment-size-bytes", EVENT_STREAM_SEGMENT_BYTES)),
            new Topology.Queue(
                SCHEDULE_RUNS_STREAM,
                Map.of(
                    "x-queue-type", "stream",
                    "x-max-age", SCHEDULE_RUNS_RETENTION,
                    "x-max-length-bytes", DEAD_LETTER_MAX_BYTES,
                    "x-stream-max-segment-size-bytes", EVENT_STREAM_SEGMENT_BYTES)),
            new Topology.Queue(
                SCHEDULER_QUEUE,
                Map.of(
                    "x-queue-type",
                    "quorum",
                    "x-single-active-consumer",
                    true,
                    "x-max-length",
                    1,
                    "x-overflow",
                    "reject-publish",
                    "x-delivery-limit",
                    CHORD_DELIVERY_LIMIT))),
        List.of(new Topology.Binding(TASK_EXCHANGE, SCHEDULE_RUNS_STREAM, SCHEDULE_RUNS_STREAM)));
  }

  /**
   * Tasks' run-time limits, set fleet-wide (over REST) and read by every worker and producer from
   * the start: kept, like the schedules, until the stream's size limit, the last record of a task
   * winning.
   */
  public static final String LIMITS_STREAM = "lovage.limits";

  /** The stream of tasks' run-time limits, {@link #LIMITS_STREAM}. */
  public static Topology limits() {
    return new Topology(
        List.of(),
        List.of(
            new Topology.Queue(
                LIMITS_STREAM,
                Map.of(
                    "x-queue-type", "stream",
                    "x-max-length-bytes", DEAD_LETTER_MAX_BYTES,
                    "x-stream-max-segment-size-bytes", EVENT_STREAM_SEGMENT_BYTES))),
        List.of());
  }

  /**
   * The queue of a task's global rate limit tokens: every worker with the limit consumes it and
   * refills it by its share, and the REST service shows how many are ready.
   */
  public static String rateTokens(String task) {
    return "lovage.tokens." + task;
  }

  /**
   * The queue of the permits of a task's concurrency limit of {@code permits} (one per task; a
   * limit per key has one such queue per key value, this name and a hash of the value).
   */
  public static String concurrencyPermits(String task, int permits) {
    return "lovage.permits." + task + ".n" + permits;
  }

  /** Everything a worker or producer using these task queues, of this type, needs. */
  public static Topology forQueues(List<String> queues, QueueType type) {
    Topology topology = events().plus(delays()).plus(chords()).plus(schedules()).plus(limits());
    for (String queue : queues) {
      topology = topology.plus(taskQueue(queue, type));
    }
    return topology;
  }
}
