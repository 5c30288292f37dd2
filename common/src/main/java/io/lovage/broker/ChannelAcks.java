package io.lovage.broker;

import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.impl.recovery.AutorecoveringChannel;
import com.rabbitmq.client.impl.recovery.RecoveryAwareChannelN;
import java.io.IOException;
import java.time.Duration;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The acknowledgements of one consumer channel, sent in as few frames as the broker allows. An
 * acknowledged delivery that is, with those acknowledged before it, the channel's oldest unsettled
 * one goes at once, in one {@code basic.ack} with {@code multiple} for all of them. One
 * acknowledged while an older delivery is still unsettled (running, held by a rate limit or for its
 * eta) waits until that one is settled and a frame covers both, but {@link #LONGEST} at most, or
 * until {@link #MOST_WAITING} wait: then each goes on its own. A {@code multiple} frame never
 * covers a delivery still unsettled.
 *
 * <p>Tasks end nearly in the order they came, so under load the broker gets a frame, and for a
 * quorum queue a settle command in its log, per few tasks instead of per task (RabbitMQ PerfTest
 * consumes 40 % more with the broker's same CPU when it acknowledges ten at a time). An
 * acknowledgement that waits changes nothing for the task: its outcome was confirmed before; a
 * worker that dies meanwhile has it delivered again, as one that died just before acknowledging.
 * {@link RabbitBroker#close()} sends what waits before it closes the connection.
 *
 * <p>Frames on the channel are sent under its monitor, as every other settlement and {@code
 * basic.get} on it are, so they never interleave. They go to the channel as it is when they are
 * sent: after a reconnect the client numbers the recovered channel's deliveries on from the lost
 * one's, and drops a settlement of a lost delivery, but for {@code basic.ack multiple} of exactly
 * the lost channel's last tag, which it would send as "all of them" on the new one. Frames that
 * raced a recovery go to the closed channel instead, and fail as any settlement of a lost delivery
 * does: RabbitMQ delivers those again.
 */
final class ChannelAcks implements Settlements {
  private static final Logger log = LoggerFactory.getLogger(ChannelAcks.class);

  /** The longest an acknowledgement waits for an older delivery to be settled. */
  static final Duration LONGEST = Duration.ofMillis(20);

  /** The most acknowledgements that wait for older deliveries. */
  static final int MOST_WAITING = 64;

  private final Channel channel;
  private final String queue;
  private final ScheduledExecutorService timer;

  /** Where a channel with acknowledgements waiting is, for {@link #sendAll(Set)}. */
  private final Set<ChannelAcks> waitingSomewhere;

  /** Delivered and not settled, or acknowledged in a frame not sent yet. */
  private final ConcurrentSkipListSet<Long> unsettled = new ConcurrentSkipListSet<>();

  /** Acknowledged by their deliveries, for the thread that sends next. */
  private final ConcurrentLinkedQueue<Long> acked = new ConcurrentLinkedQueue<>();

  /** Acknowledged, waiting for an older delivery. Guarded by the channel's monitor. */
  private final TreeSet<Long> waiting = new TreeSet<>();

  /** A thread sends: the others leave their tags in {@link #acked} for it. */
  private final AtomicBoolean sending = new AtomicBoolean();

  /** Sending all that waits was asked for: the thread sending does it next. */
  private final AtomicBoolean allWanted = new AtomicBoolean();

  /** A send of all that waits is due within {@link #LONGEST}. */
  private final AtomicBoolean due = new AtomicBoolean();

  /**
   * @param timer where a send of what waits is due within {@link #LONGEST}
   * @param waitingSomewhere the broker's channels with acknowledgements waiting: this one is in it
   *     while it has any
   */
  ChannelAcks(
      Channel channel,
      String queue,
      ScheduledExecutorService timer,
      Set<ChannelAcks> waitingSomewhere) {
    this.channel = channel;
    this.queue = queue;
    this.timer = timer;
    this.waitingSomewhere = waitingSomewhere;
  }

  /** A delivery arrived on the channel: it counts as unsettled until it is. */
  @Override
  public void delivered(long tag) {
    unsettled.add(tag);
  }

  /** Acknowledges a delivery: now, with the older ones, or once they are settled. */
  @Override
  public void ack(long tag) {
    acked.add(tag);
    send(false);
  }

  /** Rejects a delivery, requeued or not, on its own and at once. */
  @Override
  public void reject(long tag, boolean requeue) throws IOException {
    synchronized (channel) {
      unsettled.remove(tag);
      channel.basicReject(tag, requeue);
    }
  }

  /**
   * Sends every acknowledgement waiting on these channels, and returns once they are sent (or a
   * second passed): before their connection closes.
   */
  static void sendAll(Set<ChannelAcks> channels) {
    long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
    for (ChannelAcks acks : Set.copyOf(channels)) {
      acks.send(true);
      while ((acks.sending.get() || acks.allWanted.get()) && System.nanoTime() < deadline) {
        LockSupport.parkNanos(Duration.ofMillis(1).toNanos());
      }
    }
  }

  /**
   * Sends what can go; with {@code all}, what waits for older deliveries too. A thread that finds
   * another sending leaves it the work: that one goes round once more.
   */
  private void send(boolean all) {
    if (all) {
      allWanted.set(true);
    }
    while (sending.compareAndSet(false, true)) {
      try {
        boolean everything = allWanted.getAndSet(false);
        synchronized (channel) {
          sendAcked(everything);
        }
      } catch (IOException | AlreadyClosedException e) {
        forgetWaiting();
        Settlements.notSent(log, "ack", queue, e);
      } finally {
        sending.set(false);
      }
      if (acked.isEmpty() && !allWanted.get()) {
        return;
      }
    }
  }

  /** The channel went: what waited is the broker's again. */
  private void forgetWaiting() {
    synchronized (channel) {
      waiting.clear();
      waitingSomewhere.remove(this);
    }
  }

  /** Guarded by the channel's monitor. */
  private void sendAcked(boolean all) throws IOException {
    Channel now =
        channel instanceof AutorecoveringChannel recovering ? recovering.getDelegate() : channel;
    // Tags at or below the offset were delivered on a channel lost before: RabbitMQ has them back.
    long lost =
        now instanceof RecoveryAwareChannelN current ? current.getActiveDeliveryTagOffset() : 0;
    unsettled.headSet(lost, true).clear();
    waiting.headSet(lost, true).clear();
    for (Long tag = acked.poll(); tag != null; tag = acked.poll()) {
      if (tag > lost) {
        waiting.add(tag);
      }
    }
    // The acknowledged tags that are, in order, the oldest unsettled: one frame settles them all.
    long upTo = 0;
    Iterator<Long> oldest = unsettled.iterator();
    for (Long tag : waiting) {
      if (!oldest.hasNext() || !oldest.next().equals(tag)) {
        break;
      }
      upTo = tag;
    }
    try {
      if (upTo > 0) {
        waiting.headSet(upTo, true).clear();
        unsettled.headSet(upTo, true).clear();
        now.basicAck(upTo, true);
      }
      if (all || waiting.size() >= MOST_WAITING) {
        for (Iterator<Long> each = waiting.iterator(); each.hasNext(); ) {
          long tag = each.next();
          each.remove();
          unsettled.remove(tag);
          now.basicAck(tag, false);
        }
      }
    } finally {
      if (waiting.isEmpty()) {
        waitingSomewhere.remove(this);
      } else {
        waitingSomewhere.add(this);
        sendAllWithin(LONGEST);
      }
    }
  }

  private void sendAllWithin(Duration delay) {
    if (due.compareAndSet(false, true)) {
      timer.schedule(
          () -> {
            due.set(false);
            // Off the timer's one thread: sending waits for the channel.
            Thread.startVirtualThread(() -> send(true));
          },
          delay.toNanos(),
          TimeUnit.NANOSECONDS);
    }
  }
}
