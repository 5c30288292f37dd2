package io.lovage.broker;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** Sends a message through the delay ladder of {@link LovageTopology#delays()}. */
public final class Delays {
  private Delays() {}

  /**
   * Publishes {@code message} so that it reaches {@code queue} after {@code delay}, rounded up to
   * whole seconds (a task is never early) and at least one second.
   */
  public static CompletableFuture<Void> publish(
      Broker broker, String queue, Message message, Duration delay) {
    long seconds = Math.max(1, (delay.toMillis() + 999) / 1000);
    if (seconds > LovageTopology.MAX_DELAY_SECONDS) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "delay of "
                  + seconds
                  + " s is longer than the longest Lovage holds, "
                  + LovageTopology.MAX_DELAY_SECONDS
                  + " s"));
    }
    return broker.publish(
        LovageTopology.delayLevel(LovageTopology.DELAY_LEVELS - 1),
        LovageTopology.delayRoutingKey(seconds, queue),
        message);
  }
}
