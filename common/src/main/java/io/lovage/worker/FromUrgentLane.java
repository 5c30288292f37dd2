package io.lovage.worker;

import io.lovage.broker.Delivery;

/**
 * A delivery from a task queue's urgent lane ({@link io.lovage.broker.TaskQueues}), counted as one
 * from the queue itself: its task reports the queue, and its dead letters, retries and callbacks go
 * by the queue, as though RabbitMQ had ordered the queue by priority.
 */
final class FromUrgentLane extends ForwardingDelivery {
  private final String queue;

  FromUrgentLane(Delivery lane, String queue) {
    super(lane);
    this.queue = queue;
  }

  @Override
  public String queue() {
    return queue;
  }
}
