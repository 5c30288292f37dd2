package io.lovage.worker;

import io.lovage.broker.Delivery;
import io.lovage.broker.Message;
import java.util.Map;

/** A delivery of the worker's stages' unit tests: settling it only marks it no longer held. */
final class FakeDelivery implements Delivery {
  final String id;
  final Message message;
  boolean held = true;

  FakeDelivery(String id, Message message) {
    this.id = id;
    this.message = message;
  }

  /** A delivery with only the task and id headers, and no body. */
  FakeDelivery(String task, String id) {
    this(
        id,
        Message.json(
            new byte[0], task == null ? Map.of("id", id) : Map.of("task", task, "id", id)));
  }

  @Override
  public Message message() {
    return message;
  }

  @Override
  public String queue() {
    return "celery";
  }

  @Override
  public long deliveryCount() {
    return 0;
  }

  @Override
  public void ack() {
    held = false;
  }

  @Override
  public void reject() {
    held = false;
  }

  @Override
  public void requeue() {
    held = false;
  }

  @Override
  public boolean held() {
    return held;
  }
}
