package io.lovage.broker;

import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import java.io.IOException;
import org.slf4j.Logger;

/**
 * How the deliveries of one channel are settled: each in its own frame at once ({@link #oneByOne}),
 * or with acknowledgements coalesced ({@link ChannelAcks}). Frames on the channel are sent under
 * its monitor, so they never interleave.
 */
interface Settlements {
  /** A delivery arrived on the channel. */
  default void delivered(long tag) {}

  void ack(long tag) throws IOException;

  void reject(long tag, boolean requeue) throws IOException;

  /** Each settlement in a frame of its own, sent at once: for basic.get and streams over AMQP. */
  static Settlements oneByOne(Channel channel) {
    return new Settlements() {
      @Override
      public void ack(long tag) throws IOException {
        synchronized (channel) {
          channel.basicAck(tag, false);
        }
      }

      @Override
      public void reject(long tag, boolean requeue) throws IOException {
        synchronized (channel) {
          channel.basicReject(tag, requeue);
        }
      }
    };
  }

  /**
   * Logs a settlement that could not be sent because the channel is gone: the broker requeues the
   * message itself, it will come again. After our own close (a consumer that stopped) that is
   * expected, not a warning.
   */
  static void notSent(Logger log, String what, String queue, Exception e) {
    if (e instanceof AlreadyClosedException closed && closed.isInitiatedByApplication()) {
      log.debug("{} not sent after close queue={}", what, queue);
    } else {
      log.warn(
          "{} not sent, the message will be redelivered queue={} error={}",
          what,
          queue,
          e.toString());
    }
  }
}
