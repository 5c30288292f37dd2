package io.lovage.worker;

import io.lovage.RateLimit;
import io.lovage.broker.Delivery;
import io.lovage.protocol.TaskMessageCodec;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The stage between a worker's consumers and its pools that keeps each task name to its rate limit
 * on this worker, as Celery's consumer does with kombu's token buckets, or to its global limit
 * across the fleet, with tokens from a queue every worker shares ({@link FleetTokens}): a delivery
 * of a task over its limit is held here, unacknowledged, and passed on when its task has a token
 * again, in the order it came. A held delivery takes no pool slot, so other tasks run at full
 * concurrency beside it; it does count against its queue's prefetch, as in Celery. Nothing is
 * dropped: a delivery still held when the worker stops is handed back ({@link #close()}) to be
 * requeued, and a worker that dies leaves it unacknowledged, so RabbitMQ delivers it again.
 *
 * <p>Limits come from the task's registration, the worker's settings, the fleet-wide book of limits
 * ({@code io.lovage.limits.LimitBook}, set over REST; in place of the first two while there), and
 * remote control ({@link #set}, Celery's {@code rate_limit}, until the book next changes the task's
 * limit); a new limit applies to the deliveries already held too.
 */
final class RateLimiter {
  private static final Logger log = LoggerFactory.getLogger(RateLimiter.class);

  /** Runs an action once after a delay; answers how to cancel it. */
  @FunctionalInterface
  interface Timer {
    Runnable after(Duration delay, Runnable action);
  }

  /**
   * Where a limited task's tokens come from: this worker's own {@link TokenBucket} for a limit per
   * worker, a queue the fleet shares ({@link FleetTokens}) for a global one.
   */
  interface Tokens {
    /** Takes a token if there is one now. */
    boolean tryTake();

    /**
     * Runs {@code wake} once, later and on another thread, when a token may be there; answers how
     * to cancel that.
     */
    Runnable whenAvailable(Runnable wake);

    /** Stops: the limit was replaced or the worker stops. */
    default void close() {}
  }

  /** Opens the tokens of a global limit. */
  @FunctionalInterface
  interface FleetTokenSource {
    Tokens open(String task, RateLimit limit);
  }

  /** The held deliveries of one limited task, and its tokens. Guarded by the limiter. */
  private static final class Lane {
    final String task;
    final RateLimit limit;
    final Tokens tokens;
    final ArrayDeque<Delivery> held = new ArrayDeque<>();

    /** Cancels the scheduled wake-up, or null when none is scheduled. */
    Runnable wake;

    Lane(String task, RateLimit limit, Tokens tokens) {
      this.task = task;
      this.limit = limit;
      this.tokens = tokens;
    }
  }

  private final Consumer<Delivery> next;
  private final Executor releaseOn;
  private final Timer timer;
  private final LongSupplier nanoTime;
  private final FleetTokenSource fleet;
  private final Map<String, RateLimit> limits = new ConcurrentHashMap<>();
  private final Map<String, Lane> lanes = new HashMap<>();
  private final java.util.concurrent.atomic.LongAdder delayed =
      new java.util.concurrent.atomic.LongAdder();
  private boolean closed;

  /**
   * @param limits the limit of each task that has one
   * @param next the next stage: a delivery admitted at once runs it on the caller's thread
   * @param releaseOn where a held delivery runs {@code next} once its token came
   * @param timer wakes a lane when its bucket has a token again
   * @param nanoTime a monotonic clock, {@code System::nanoTime} but in tests
   * @param fleet the tokens of global limits
   */
  RateLimiter(
      Map<String, RateLimit> limits,
      Consumer<Delivery> next,
      Executor releaseOn,
      Timer timer,
      LongSupplier nanoTime,
      FleetTokenSource fleet) {
    this.next = next;
    this.releaseOn = releaseOn;
    this.timer = timer;
    this.nanoTime = nanoTime;
    this.fleet = fleet;
    limits.forEach(this::set);
  }

  /** A limiter of limits per worker only: a global limit is refused. */
  RateLimiter(
      Map<String, RateLimit> limits,
      Consumer<Delivery> next,
      Executor releaseOn,
      Timer timer,
      LongSupplier nanoTime) {
    this(
        limits,
        next,
        releaseOn,
        timer,
        nanoTime,
        (task, limit) -> {
          throw new IllegalArgumentException("global rate limits need the fleet's tokens");
        });
  }

  /** Passes the delivery on now if its task has no limit or a token, else holds it. */
  void admit(Delivery delivery) {
    String task = TaskMessageCodec.taskName(delivery.message());
    synchronized (this) {
      Lane lane = task == null || closed ? null : lanes.get(task);
      if (lane != null && !(lane.held.isEmpty() && lane.tokens.tryTake())) {
        lane.held.add(delivery);
        delayed.increment();
        log.debug(
            "task held by rate limit task_id={} task={} rate_limit={} held={}",
            delivery.message().headers().get("id"),
            task,
            lane.limit,
            lane.held.size());
        wakeLater(lane);
        return;
      }
    }
    next.accept(delivery);
  }

  /**
   * Sets a task's limit on this worker from now on ({@link RateLimit#NONE}: none), with a full
   * bucket as Celery's {@code rate_limit} gives it (a global limit: the fleet's tokens); its held
   * deliveries go on at the new rate.
   */
  void set(String task, RateLimit limit) {
    List<Delivery> go = new ArrayList<>();
    synchronized (this) {
      limits.put(task, limit);
      Lane old = lanes.remove(task);
      if (old != null) {
        stop(old);
      }
      if (limit.isLimited() && !closed) {
        Lane lane = new Lane(task, limit, tokens(task, limit));
        lanes.put(task, lane);
        if (old != null) {
          lane.held.addAll(old.held);
        }
        takeTokens(lane, go);
      } else if (old != null) {
        go.addAll(old.held);
      }
    }
    release(go);
  }

  /** The task's limit on this worker now. */
  RateLimit limitOf(String task) {
    return limits.getOrDefault(task, RateLimit.NONE);
  }

  /** Deliveries held by a limit since start, each counted once. */
  long delayed() {
    return delayed.sum();
  }

  /**
   * The tokens ready for a task's global limit in its queue, as last seen, if it has one on this
   * worker.
   */
  synchronized java.util.OptionalLong fleetTokensReady(String task) {
    Lane lane = lanes.get(task);
    return lane != null && lane.tokens instanceof FleetTokens.Shared shared
        ? java.util.OptionalLong.of(shared.ready())
        : java.util.OptionalLong.empty();
  }

  /** Deliveries held now, of every task. */
  synchronized int held() {
    return lanes.values().stream().mapToInt(lane -> lane.held.size()).sum();
  }

  /**
   * Stops holding: returns the deliveries held now, for the worker to requeue, and from now on
   * passes every delivery straight on.
   */
  synchronized List<Delivery> close() {
    closed = true;
    List<Delivery> held = new ArrayList<>();
    for (Lane lane : lanes.values()) {
      stop(lane);
      held.addAll(lane.held);
    }
    lanes.clear();
    return held;
  }

  /** The lane's bucket has a token again, or should have: pass on what it allows. */
  private void wake(Lane lane) {
    List<Delivery> go = new ArrayList<>();
    synchronized (this) {
      lane.wake = null;
      if (closed || lanes.get(lane.task) != lane) {
        return; // replaced by a new limit, which took its deliveries
      }
      takeTokens(lane, go);
    }
    release(go);
  }

  /** Moves the deliveries that get a token now into {@code go}; wakes later for the rest. */
  private void takeTokens(Lane lane, List<Delivery> go) {
    while (!lane.held.isEmpty()) {
      if (!lane.held.peek().held()) {
        // Its channel went down: RabbitMQ has it back and delivers it again; it takes no token.
        lane.held.poll();
      } else if (lane.tokens.tryTake()) {
        go.add(lane.held.poll());
      } else {
        wakeLater(lane);
        return;
      }
    }
  }

  private void wakeLater(Lane lane) {
    if (lane.wake == null) {
      lane.wake = lane.tokens.whenAvailable(() -> wake(lane));
    }
  }

  private Tokens tokens(String task, RateLimit limit) {
    if (limit.isGlobal()) {
      return fleet.open(task, limit);
    }
    TokenBucket bucket = new TokenBucket(limit.perSecond(), nanoTime);
    return new Tokens() {
      @Override
      public boolean tryTake() {
        return bucket.tryTake();
      }

      @Override
      public Runnable whenAvailable(Runnable wake) {
        return timer.after(bucket.untilNext(), wake);
      }
    };
  }

  private static void stop(Lane lane) {
    if (lane.wake != null) {
      lane.wake.run();
      lane.wake = null;
    }
    lane.tokens.close();
  }

  private void release(List<Delivery> go) {
    go.forEach(delivery -> releaseOn.execute(() -> next.accept(delivery)));
  }
}
