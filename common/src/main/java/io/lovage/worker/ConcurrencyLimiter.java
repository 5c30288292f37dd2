package io.lovage.worker;

import io.lovage.ConcurrencyLimit;
import io.lovage.broker.Delivery;
import io.lovage.broker.Message;
import io.lovage.protocol.MalformedMessageException;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import io.lovage.security.MessageSecurity;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * The stage after the {@link RateLimiter} that keeps a task to its concurrency limit across all
 * workers: a delivery of a limited task goes on only with a permit ({@link Permits}), held
 * unacknowledged on the broker until the delivery is settled, then given back. A delivery without a
 * permit waits here, unacknowledged and without a pool slot, in the order it came, and is tried
 * again when a task of its key ends on this worker or, for permits given back elsewhere, after a
 * short growing pause. Nothing is dropped: what waits when the worker stops is handed back ({@link
 * #close()}) to be requeued, and a worker that dies leaves its deliveries and permits
 * unacknowledged, so RabbitMQ gives both back.
 */
final class ConcurrencyLimiter {
  private static final Logger log = LoggerFactory.getLogger(ConcurrencyLimiter.class);

  /** The first pause before asking again for a permit of a key that had none; it doubles. */
  static final Duration FIRST_PAUSE = Duration.ofMillis(20);

  /** The longest pause between two asks for a permit of one key. */
  static final Duration LONGEST_PAUSE = Duration.ofMillis(500);

  /** Takes a permit of a permit queue, making its permits first if nobody has. */
  @FunctionalInterface
  interface PermitSource {
    Optional<Delivery> take(String queue, int permits);
  }

  /** The deliveries waiting for a permit of one permit queue. Guarded by the limiter. */
  private static final class Lane {
    final String queue;
    final String task;
    final ConcurrencyLimit limit;
    final int permits;
    final ArrayDeque<Delivery> waiting = new ArrayDeque<>();
    boolean asking;
    int misses;

    /** How many at the head of {@link #waiting} were counted as delayed already. */
    int counted;

    /** Cancels the scheduled next ask, or null when none is scheduled. */
    Runnable wake;

    Lane(String queue, String task, ConcurrencyLimit limit) {
      this.queue = queue;
      this.task = task;
      this.limit = limit;
      this.permits = limit.permits();
    }
  }

  private final Map<String, ConcurrencyLimit> limits;
  private final PermitSource permits;
  private final Consumer<Delivery> next;
  private final Executor askOn;
  private final RateLimiter.Timer timer;
  private final MessageSecurity security;
  private final Map<String, Lane> lanes = new HashMap<>();
  private final java.util.concurrent.atomic.AtomicInteger permitsHeld =
      new java.util.concurrent.atomic.AtomicInteger();
  private long delayed;
  private boolean closed;

  /**
   * @param limits the limit of each task that has one
   * @param permits where permits come from ({@link Permits#take} but in tests)
   * @param next the next stage, run with the delivery once it holds a permit
   * @param askOn where permits are asked for (each ask blocks for a few broker round trips)
   * @param timer wakes a lane to ask again
   */
  ConcurrencyLimiter(
      Map<String, ConcurrencyLimit> limits,
      PermitSource permits,
      Consumer<Delivery> next,
      Executor askOn,
      RateLimiter.Timer timer) {
    this(limits, permits, next, askOn, timer, MessageSecurity.NONE);
  }

  /**
   * @param security opens a signed message to find its key argument (a message it refuses goes on
   *     without a permit: the worker dead-letters it)
   */
  ConcurrencyLimiter(
      Map<String, ConcurrencyLimit> limits,
      PermitSource permits,
      Consumer<Delivery> next,
      Executor askOn,
      RateLimiter.Timer timer,
      MessageSecurity security) {
    this.security = security;
    this.limits = new java.util.concurrent.ConcurrentHashMap<>(limits);
    this.permits = permits;
    this.next = next;
    this.askOn = askOn;
    this.timer = timer;
  }

  /** Passes the delivery on now if its task has no limit, else once it holds a permit. */
  void admit(Delivery delivery) {
    String task = TaskMessageCodec.taskName(delivery.message());
    ConcurrencyLimit limit = task == null ? null : limits.get(task);
    if (limit == null || !limit.isLimited()) {
      next.accept(delivery);
      return;
    }
    Optional<String> queue = permitQueue(task, limit, delivery.message(), security);
    if (queue.isEmpty()) {
      next.accept(delivery); // not a task message: the worker rejects it without running it
      return;
    }
    synchronized (this) {
      if (!closed) {
        Lane lane = lanes.computeIfAbsent(queue.get(), q -> new Lane(q, task, limit));
        lane.waiting.add(delivery);
        askSoon(lane);
        return;
      }
    }
    next.accept(delivery); // the worker is stopping: it requeues the delivery
  }

  /**
   * Sets a task's limit from now on ({@link ConcurrencyLimit#NONE}: none). Its new permits are
   * queues of their own ({@link Permits}): tasks running under the old limit keep their permits
   * until they end, and deliveries waiting under the old limit wait under the new one instead.
   */
  void set(String task, ConcurrencyLimit limit) {
    List<Delivery> again = new ArrayList<>();
    synchronized (this) {
      if (limit.isLimited()) {
        limits.put(task, limit);
      } else {
        limits.remove(task);
      }
      for (var lanes = this.lanes.values().iterator(); lanes.hasNext(); ) {
        Lane lane = lanes.next();
        if (lane.task.equals(task) && !lane.limit.equals(limit)) {
          lanes.remove();
          if (lane.wake != null) {
            lane.wake.run();
            lane.wake = null;
          }
          again.addAll(lane.waiting);
          lane.waiting.clear();
        }
      }
    }
    again.forEach(this::admit);
  }

  /** The task's limit on this worker now. */
  ConcurrencyLimit limitOf(String task) {
    return limits.getOrDefault(task, ConcurrencyLimit.NONE);
  }

  /** Deliveries that had to wait for a permit since start (all were held), each counted once. */
  synchronized long delayed() {
    return delayed;
  }

  /** Permits this worker holds now: its tasks running under a concurrency limit. */
  int permitsHeld() {
    return permitsHeld.get();
  }

  /** Deliveries waiting for a permit now, of every task. */
  synchronized int held() {
    return lanes.values().stream().mapToInt(lane -> lane.waiting.size()).sum();
  }

  /**
   * Stops holding: returns the deliveries waiting for a permit, for the worker to requeue. Tasks
   * running with a permit give it back when they are settled.
   */
  synchronized List<Delivery> close() {
    closed = true;
    List<Delivery> waiting = new ArrayList<>();
    for (Lane lane : lanes.values()) {
      if (lane.wake != null) {
        lane.wake.run();
      }
      waiting.addAll(lane.waiting);
    }
    lanes.clear();
    return waiting;
  }

  /** Asks for permits on the executor now, unless an ask runs already. Holds the lock. */
  private void askSoon(Lane lane) {
    if (lane.asking || closed) {
      return;
    }
    if (lane.wake != null) {
      lane.wake.run();
      lane.wake = null;
    }
    lane.asking = true;
    askOn.execute(() -> ask(lane));
  }

  /** Takes permits for the lane's waiting deliveries, in order, until there are none or no more. */
  private void ask(Lane lane) {
    while (true) {
      synchronized (this) {
        while (!lane.waiting.isEmpty() && !lane.waiting.peek().held()) {
          lane.waiting.poll(); // its channel went down: RabbitMQ delivers it again
        }
        if (closed || lane.waiting.isEmpty()) {
          lane.asking = false;
          if (lanes.get(lane.queue) == lane && lane.waiting.isEmpty()) {
            lanes.remove(lane.queue);
          }
          return;
        }
      }
      Optional<Delivery> permit;
      try {
        permit = permits.take(lane.queue, lane.permits);
      } catch (RuntimeException e) {
        log.warn(
            "cannot take a concurrency permit, trying again task={} permits={} error={}",
            lane.task,
            lane.queue,
            e.toString());
        permit = Optional.empty();
      }
      Delivery go;
      synchronized (this) {
        go = permit.isPresent() && !closed ? lane.waiting.poll() : null;
        if (go != null) {
          lane.counted = Math.max(0, lane.counted - 1);
        }
        if (go == null) {
          permit.ifPresent(Delivery::requeue);
          lane.asking = false;
          if (!closed && !lane.waiting.isEmpty()) {
            pause(lane);
          }
          return;
        }
        lane.misses = 0;
      }
      permitsHeld.incrementAndGet();
      next.accept(
          new Permitted(
              go,
              permit.get(),
              () -> {
                permitsHeld.decrementAndGet();
                released(lane.queue);
              }));
    }
  }

  /** No permit now: ask again after a pause that grows with each miss. Holds the lock. */
  private void pause(Lane lane) {
    long first = FIRST_PAUSE.toMillis();
    long millis = Math.min(LONGEST_PAUSE.toMillis(), first << Math.min(lane.misses++, 10));
    long jittered = millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1);
    delayed += Math.max(0, lane.waiting.size() - lane.counted);
    lane.counted = lane.waiting.size();
    lane.wake =
        timer.after(
            Duration.ofMillis(jittered),
            () -> {
              synchronized (this) {
                lane.wake = null;
                if (lanes.get(lane.queue) == lane) {
                  askSoon(lane);
                }
              }
            });
    log.debug(
        "task waits for a concurrency permit task={} permits={} waiting={}",
        lane.task,
        lane.queue,
        lane.waiting.size());
  }

  /** A task of the lane gave its permit back: its next delivery may have it at once. */
  private void released(String queue) {
    synchronized (this) {
      Lane lane = lanes.get(queue);
      if (lane != null && !lane.waiting.isEmpty()) {
        lane.misses = 0;
        askSoon(lane);
      }
    }
  }

  /**
   * The permit queue of a delivery: per task, or per value of its key argument (the kwarg, else the
   * positional argument); empty when the message cannot be decoded.
   */
  static Optional<String> permitQueue(
      String task, ConcurrencyLimit limit, Message message, MessageSecurity security) {
    if (!limit.isPerKey()) {
      return Optional.of(Permits.queue(task, limit.permits(), null));
    }
    TaskMessage decoded;
    try {
      decoded = TaskMessageCodec.decode(security.open(message));
    } catch (MalformedMessageException e) {
      return Optional.empty();
    }
    JsonNode value = decoded.kwargs() == null ? null : decoded.kwargs().get(limit.key());
    if (value == null
        && limit.position() >= 0
        && decoded.args() != null
        && limit.position() < decoded.args().size()) {
      value = decoded.args().get(limit.position());
    }
    // A task without the argument shares one limit with all others that lack it.
    String text = value == null ? "" : value.isString() ? value.asString() : value.toString();
    return Optional.of(Permits.queue(task, limit.permits(), text));
  }

  /** A delivery that holds a permit: settling it gives the permit back, exactly once. */
  private static final class Permitted extends ForwardingDelivery {
    private final Delivery permit;
    private final Runnable released;
    private final AtomicBoolean returned = new AtomicBoolean();

    Permitted(Delivery delivery, Delivery permit, Runnable released) {
      super(delivery);
      this.permit = permit;
      this.released = released;
    }

    @Override
    public void ack() {
      try {
        delivery.ack();
      } finally {
        giveBack();
      }
    }

    @Override
    public void reject() {
      try {
        delivery.reject();
      } finally {
        giveBack();
      }
    }

    @Override
    public void requeue() {
      try {
        delivery.requeue();
      } finally {
        giveBack();
      }
    }

    private void giveBack() {
      if (returned.compareAndSet(false, true)) {
        try {
          permit.requeue();
        } catch (RuntimeException e) {
          // The permit's channel is gone, and RabbitMQ has put the permit back already.
          log.debug("permit not requeued queue={} error={}", permit.queue(), e.toString());
        }
        released.run();
      }
    }
  }
}
