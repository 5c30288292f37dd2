package io.lovage.worker;

import io.lovage.RateLimit;
import io.lovage.broker.Broker;
import io.lovage.broker.BrokerException;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.Subscription;
import io.lovage.broker.Topology;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tokens of global rate limits, kept in RabbitMQ alone: one classic queue per task, {@code
 * lovage.tokens.<task>}, that every worker with the task's global limit consumes with a prefetch of
 * one. A worker starts a task of that name only after it acknowledged a token; the token it holds
 * unacknowledged meanwhile is its whole burst.
 *
 * <p>A token message carries {@link RateLimit#tokensPerMessage() a fiftieth of a second's} tokens
 * (its body is their number, 1 up to 20/s): at 10,000/s a message is 200 tasks, so the limit's own
 * cost stays a few messages per refill, and a worker's burst stays within that fiftieth of a
 * second.
 *
 * <p>No worker is elected to refill: every {@link #REFILL_EVERY} each of them adds its share, the
 * rate divided by the queue's consumer count as RabbitMQ reports it then. A worker that dies stops
 * adding and stops counting at once (its connection closes and its held token goes back to the
 * queue), so the others add its share from their next refill on; a worker that joins is counted
 * from its first. The queue holds at most {@link #capacity(double) a fifth of a second} of tokens,
 * so a limit that nobody used for a while does not let a burst through.
 *
 * <p>A worker that stalls without closing its connection is still counted until its heartbeat times
 * out: for that long the fleet runs at (N - 1) / N of the rate, never above it.
 */
final class FleetTokens implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FleetTokens.class);

  /** How often each worker adds its share of tokens. */
  static final Duration REFILL_EVERY = Duration.ofMillis(100);

  /** A token queue nobody consumed or declared for this long goes away. */
  static final Duration EXPIRES = Duration.ofDays(1);

  /** The most tokens a queue holds whatever the rate: a backstop beside {@link #capacity}. */
  static final int MAX_TOKENS = 10_000;

  private final Broker broker;
  private final Executor wakeOn;
  private final LongSupplier nanoTime;
  private final ScheduledExecutorService refiller =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("lovage-fleet-tokens").daemon().factory());

  /**
   * @param wakeOn where a held delivery is woken when a token arrives
   * @param nanoTime a monotonic clock, {@code System::nanoTime} but in tests
   */
  FleetTokens(Broker broker, Executor wakeOn, LongSupplier nanoTime) {
    this.broker = broker;
    this.wakeOn = wakeOn;
    this.nanoTime = nanoTime;
  }

  /** The token queue of a task's global limit. */
  static String queue(String task) {
    return LovageTopology.rateTokens(task);
  }

  static Topology topology(String task) {
    return new Topology(
        List.of(),
        List.of(Topology.Queue.bounded(queue(task), MAX_TOKENS, EXPIRES, Map.of())),
        List.of());
  }

  /** Tokens a task's queue holds at most at this rate: a fifth of a second's worth, at least 1. */
  static int capacity(double perSecond) {
    return (int) Math.max(1, Math.ceil(perSecond * 2 * REFILL_EVERY.toNanos() / 1e9));
  }

  /** Starts taking part in a task's global limit: consuming its tokens and adding this share. */
  Shared open(String task, RateLimit limit) {
    return new Shared(task, limit);
  }

  @Override
  public void close() {
    refiller.shutdownNow();
  }

  /** One task's tokens on this worker. */
  final class Shared implements RateLimiter.Tokens {
    private final String task;
    private final String queue;
    private final double perSecond;
    private final int capacity;
    private final int perMessage;
    private final Message token;
    private final Subscription subscription;
    private final ScheduledFuture<?> refill;

    /** The token message this worker holds, unacknowledged, or null. Guarded by this. */
    private Delivery spare;

    /** Tokens of a message this worker acknowledged, not used yet. Guarded by this. */
    private int local;

    /** Woken by the next token, or null. Guarded by this. */
    private Runnable waiter;

    /** Tokens this worker owes the queue, less than one but for the last refill's. */
    private double owed;

    /** Closed: a token still delivered goes back. Guarded by this. */
    private boolean closed;

    private long last;
    private volatile long ready;

    Shared(String task, RateLimit limit) {
      this.task = task;
      this.queue = queue(task);
      this.perSecond = limit.perSecond();
      this.capacity = capacity(perSecond);
      this.perMessage = limit.tokensPerMessage();
      this.token = Message.text(String.valueOf(perMessage)).notPersistent();
      broker.declare(topology(task));
      this.subscription = broker.consume(queue, ConsumeOptions.prefetch(1), this::onToken);
      this.last = nanoTime.getAsLong();
      this.refill =
          refiller.scheduleAtFixedRate(
              this::refill, 0, REFILL_EVERY.toNanos(), TimeUnit.NANOSECONDS);
      log.info("sharing a global rate limit task={} rate_limit={} queue={}", task, limit, queue);
    }

    @Override
    public synchronized boolean tryTake() {
      if (local > 0) {
        local--;
        return true;
      }
      Delivery message = spare;
      spare = null;
      if (message == null || !message.held()) {
        return false; // none, or its channel closed: RabbitMQ has it back
      }
      message.ack();
      local = tokensIn(message) - 1;
      return true;
    }

    private static int tokensIn(Delivery message) {
      try {
        String body = new String(message.message().body(), StandardCharsets.UTF_8);
        return Math.max(1, Integer.parseInt(body.trim()));
      } catch (NumberFormatException e) {
        return 1;
      }
    }

    @Override
    public Runnable whenAvailable(Runnable wake) {
      synchronized (this) {
        if (spare == null && local == 0) {
          waiter = wake;
          return () -> cancel(wake);
        }
      }
      wakeOn.execute(wake);
      return () -> {};
    }

    private synchronized void cancel(Runnable wake) {
      if (waiter == wake) {
        waiter = null;
      }
    }

    private void onToken(Delivery token) {
      Runnable wake;
      synchronized (this) {
        if (closed || (spare != null && spare.held())) {
          token.requeue(); // closing, or (a recovered channel overlapping) a second one
          return;
        }
        spare = token;
        wake = waiter;
        waiter = null;
      }
      if (wake != null) {
        wakeOn.execute(wake);
      }
    }

    /** Adds this worker's share of the tokens due since the last refill, up to the capacity. */
    private void refill() {
      long now = nanoTime.getAsLong();
      double seconds = (now - last) / 1e9;
      last = now;
      try {
        Optional<Broker.QueueCounts> counts = broker.inspect(queue);
        if (counts.isEmpty()) {
          broker.declare(topology(task)); // deleted by hand: its consumers went with it
          return;
        }
        ready = counts.get().ready();
        int sharers = Math.max(1, counts.get().consumers());
        owed += perSecond * seconds / sharers;
        long due = (long) Math.floor(owed / perMessage);
        long room = Math.max(0, (capacity + perMessage - 1) / perMessage - ready);
        owed -= due * perMessage; // what does not fit is lost, as a full bucket loses it
        for (long i = 0; i < Math.min(due, room); i++) {
          broker.publish("", queue, token).exceptionally(full -> null);
        }
      } catch (BrokerException | IllegalStateException e) {
        owed = 0; // the broker is away: no burst of what fell due meanwhile
        log.debug("tokens not refilled task={} error={}", task, e.getMessage());
      } catch (RuntimeException e) {
        log.warn("tokens not refilled task={} error={}", task, e.toString(), e);
      }
    }

    /** Tokens ready in the queue at the last refill. */
    long ready() {
      return ready * perMessage;
    }

    @Override
    public void close() {
      refill.cancel(false);
      synchronized (this) {
        closed = true;
        // A cancelled consumer keeps its unacknowledged messages: give the token back first.
        if (spare != null && spare.held()) {
          spare.requeue();
        }
        spare = null;
        waiter = null;
      }
      subscription.close();
    }
  }
}
