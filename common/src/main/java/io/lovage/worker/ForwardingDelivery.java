package io.lovage.worker;

import io.lovage.broker.Delivery;
import io.lovage.broker.Message;

/**
 * A delivery that passes everything to another one: a subclass overrides what it changes (the queue
 * it reports, what settling it also does).
 */
abstract class ForwardingDelivery implements Delivery {
  protected final Delivery delivery;

  protected ForwardingDelivery(Delivery delivery) {
    this.delivery = delivery;
  }

  @Override
  public Message message() {
    return delivery.message();
  }

  @Override
  public String queue() {
    return delivery.queue();
  }

  @Override
  public long deliveryCount() {
    return delivery.deliveryCount();
  }

  @Override
  public void ack() {
    delivery.ack();
  }

  @Override
  public void reject() {
    delivery.reject();
  }

  @Override
  public void requeue() {
    delivery.requeue();
  }

  @Override
  public boolean held() {
    return delivery.held();
  }
}
