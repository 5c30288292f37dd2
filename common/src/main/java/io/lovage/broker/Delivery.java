package io.lovage.broker;

/** A message received from a queue, to be settled exactly once: ack, reject or requeue. */
public interface Delivery {
  Message message();

  /** The queue it came from. */
  String queue();

  /**
   * How often this message was delivered before: 0 the first time. From the quorum queue's {@code
   * x-delivery-count} header, or 1 for a redelivered message of a classic queue.
   */
  long deliveryCount();

  /** Done with it: the broker forgets the message. */
  void ack();

  /** Refuse it without requeueing: the queue dead-letters it if it has a dead-letter exchange. */
  void reject();

  /** Give it back to the queue, to be delivered again. */
  void requeue();

  /**
   * Whether this consumer still holds the message unsettled: false once settled, or once the
   * channel it came on went down (RabbitMQ then gave the message back to its queue, also when the
   * connection has recovered since). Leadership held through an unacknowledged message (a
   * single-active-consumer lease) lasts exactly as long as this is true.
   */
  boolean held();
}
