package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.Channel;
import io.lovage.testing.Await;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How one consumer channel's acknowledgements become frames: the oldest go together in one {@code
 * multiple} frame, one above a delivery still unsettled waits for it (a while at most), and no
 * frame ever covers a delivery still unsettled.
 */
class ChannelAcksTest {
  /**
   * The frames sent, as {@code ack 3}, {@code ack up to 5}, {@code reject 2}, {@code requeue 2}.
   */
  private final List<String> frames = Collections.synchronizedList(new ArrayList<>());

  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final Set<ChannelAcks> waiting = ConcurrentHashMap.newKeySet();
  private final ChannelAcks acks = new ChannelAcks(channel(), "q", timer, waiting);

  @AfterEach
  void stopTimer() {
    timer.shutdownNow();
  }

  @Test
  void theOldestDeliveryAcknowledgedGoesOutAtOnce() {
    delivered(1, 2);

    acks.ack(1);

    assertEquals(List.of("ack up to 1"), frames);
  }

  @Test
  void anAcknowledgementAboveAnUnsettledDeliveryWaitsForItAndOneFrameCoversBoth() {
    delivered(1, 2, 3, 4);

    acks.ack(2);
    acks.ack(3);
    assertEquals(List.of(), frames);
    acks.ack(1);

    assertEquals(List.of("ack up to 3"), frames);
  }

  @Test
  void anAcknowledgementWaitsForAnOlderDeliveryOnlyAWhileThenGoesAlone() {
    delivered(1, 2);

    acks.ack(2);

    Await.until(Duration.ofSeconds(10), "the acknowledgement sent", () -> !frames.isEmpty());
    assertEquals(List.of("ack 2"), frames);
    assertTrue(waiting.isEmpty(), "nothing waits");
  }

  @Test
  void aMultipleFrameNeverCoversADeliveryStillUnsettled() throws Exception {
    delivered(1, 2, 3, 4, 5);

    acks.ack(1);
    acks.ack(3);
    acks.ack(4);
    acks.reject(2, true);
    acks.ack(5);

    assertEquals(List.of("ack up to 1", "requeue 2", "ack up to 5"), frames);
  }

  @Test
  void whenTooManyWaitEachGoesOnItsOwn() {
    int most = ChannelAcks.MOST_WAITING;
    delivered(IntStream.rangeClosed(1, most + 1).mapToLong(i -> i).toArray());

    IntStream.rangeClosed(2, most + 1).forEach(acks::ack);

    assertEquals(ChannelAcks.MOST_WAITING, frames.size());
    assertEquals("ack 2", frames.get(0));
    assertTrue(frames.stream().noneMatch(frame -> frame.startsWith("ack up to")), "" + frames);
  }

  @Test
  void whatWaitsIsSentBeforeTheConnectionCloses() {
    delivered(1, 2, 3);
    acks.ack(2);
    acks.ack(3);

    ChannelAcks.sendAll(waiting);

    assertEquals(List.of("ack 2", "ack 3"), frames);
    assertTrue(waiting.isEmpty(), "nothing waits");
  }

  private void delivered(long... tags) {
    for (long tag : tags) {
      acks.delivered(tag);
    }
  }

  private Channel channel() {
    return (Channel)
        Proxy.newProxyInstance(
            Channel.class.getClassLoader(),
            new Class<?>[] {Channel.class},
            (proxy, method, args) -> {
              switch (method.getName()) {
                case "basicAck" ->
                    frames.add(((boolean) args[1] ? "ack up to " : "ack ") + args[0]);
                case "basicReject" ->
                    frames.add(((boolean) args[1] ? "requeue " : "reject ") + args[0]);
                case "hashCode" -> {
                  return System.identityHashCode(proxy);
                }
                case "equals" -> {
                  return proxy == args[0];
                }
                default -> throw new UnsupportedOperationException(method.getName());
              }
              return null;
            });
  }
}
