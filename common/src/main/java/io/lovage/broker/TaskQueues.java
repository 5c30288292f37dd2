package io.lovage.broker;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The task queues a client sends to or a worker consumes, each declared once, and where a task of
 * some priority goes among them.
 *
 * <p>A quorum queue on RabbitMQ before 4.0 delivers in arrival order whatever a message's priority.
 * There a task of priority {@link LovageTopology#URGENT_PRIORITY} or above goes to its queue's
 * urgent lane ({@link LovageTopology#urgentLaneOf}), which Lovage workers consume beside the queue
 * with as much prefetch again, on top of the queue's: urgent tasks take the next free slot, the
 * others keep going. Only a queue declared exactly as Lovage declares it gets a lane; one made
 * otherwise (by Celery, as a classic queue) is used as it is, like every queue on RabbitMQ 4.x.
 *
 * <pre>{@code
 * TaskQueues queues = new TaskQueues(broker, QueueType.QUORUM);
 * broker.publish(LovageTopology.TASK_EXCHANGE, queues.route("celery", 9), message);
 * }</pre>
 */
public final class TaskQueues {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TaskQueues.class);

  private final Broker broker;
  private final QueueType type;
  private final boolean lanes;

  /** Where the urgent tasks of each declared queue go: itself or its lane. */
  private final Map<String, String> urgentTargets = new ConcurrentHashMap<>();

  /**
   * @param type the type of the queues declared when they do not exist yet
   */
  public TaskQueues(Broker broker, QueueType type) {
    this.broker = broker;
    this.type = type;
    this.lanes = type == QueueType.QUORUM && needsLanes(broker.version());
  }

  /** Whether quorum queues of this RabbitMQ version ignore priorities (3.x; 4.0 has two levels). */
  static boolean needsLanes(String version) {
    try {
      return Integer.parseInt(version.substring(0, version.indexOf('.'))) < 4;
    } catch (RuntimeException e) {
      return false; // not RabbitMQ's x.y.z: assume a newer one
    }
  }

  /**
   * Declares the queue (once) and answers its urgent lane, if it has one: a worker consumes both.
   */
  public Optional<String> declare(String queue) {
    String urgent = urgentTarget(queue);
    return urgent.equals(queue) ? Optional.empty() : Optional.of(urgent);
  }

  /**
   * Where a task of this priority (null for none) for this queue goes: the queue, or its urgent
   * lane. Declares the queue first, once.
   */
  public String route(String queue, Integer priority) {
    String urgent = urgentTarget(queue);
    return priority != null && priority >= LovageTopology.URGENT_PRIORITY ? urgent : queue;
  }

  private String urgentTarget(String queue) {
    // computeIfAbsent makes concurrent first sends wait for the declaration; a failed declaration
    // stores nothing, so the next call tries again.
    return urgentTargets.computeIfAbsent(
        queue,
        q -> {
          boolean asDeclared = broker.declare(LovageTopology.taskQueue(q, type)).isEmpty();
          if (!lanes || !asDeclared) {
            return q;
          }
          String lane = LovageTopology.urgentLane(q);
          try {
            broker.declare(LovageTopology.urgentLaneOf(q));
          } catch (BrokerException e) {
            if (broker.inspect(lane).isPresent()) {
              throw e;
            }
            // LOVAGE_TOPOLOGY=verify with a queue whoever manages the broker made without a lane
            // (e.g. Celery's): the producer and the workers all find none and use the queue.
            log.warn(
                "queue has no urgent lane, tasks of priority >= {} wait in line queue={} lane={}"
                    + " reason=\"{}\"",
                LovageTopology.URGENT_PRIORITY,
                q,
                lane,
                e.getMessage());
            return q;
          }
          return lane;
        });
  }
}
