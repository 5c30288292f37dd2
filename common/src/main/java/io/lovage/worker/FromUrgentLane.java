package io.lovage.worker;

import io.lovage.broker.Delivery;
import io.lovage.broker.Message;

/**
 * A delivery from a task queue's urgent lane ({@link io.lovage.broker.TaskQueues}), counted as one
 * from the queue itself: its task reports the queue, and its dead letters, retries and callbacks go
 * by the queue, as though RabbitMQ had ordered the queue by priority.
 */
record FromUrgentLane(Delivery lane, String queue) implements Delivery {
  @Override
  public Message message() {
    return lane.message();
  }

  @Override
  public long deliveryCount() {
    return lane.deliveryCount();
  }

  @Override
  public void ack() {
    lane.ack();
  }

  @Override
  public void reject() {
    lane.reject();
  }

  @Override
  public void requeue() {
    lane.requeue();
  }

  @Override
  public boolean held() {
    return lane.held();
  }
}
