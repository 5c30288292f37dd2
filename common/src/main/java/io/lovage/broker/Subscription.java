package io.lovage.broker;

/** A running consumer; closing it cancels the consumer (unsettled deliveries stay unsettled). */
public interface Subscription extends AutoCloseable {
  @Override
  void close();
}
