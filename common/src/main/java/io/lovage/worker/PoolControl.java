package io.lovage.worker;

import io.lovage.worker.process.ProcessPool;
import io.lovage.worker.process.ProcessPool.Bounds;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Celery's {@code pool_grow}, {@code pool_shrink} and {@code autoscale} remote control commands,
 * acting on the worker's process pool (the only pool of a Lovage worker with a size to change: IO
 * tasks run on virtual threads, CPU tasks on cores).
 *
 * <p>Celery's prefork pool is either of fixed size ({@code -c N}), which {@code pool_grow n} and
 * {@code pool_shrink n} change by n, or autoscaled ({@code --autoscale=max,min}), which only {@code
 * autoscale} changes (Celery 5.5 refuses {@code pool_grow} then). A Lovage process pool always
 * scales between {@code min} and {@code max}, so the three commands are mapped onto its bounds:
 *
 * <ul>
 *   <li>{@code pool_grow n}: the pool keeps n more children, started now: {@code min + n}, and
 *       {@code max} raised to that if it was lower.
 *   <li>{@code pool_shrink n}: the pool keeps n fewer: {@code min - n} (not below 0), and idle
 *       children above it exit now; a fixed-size pool ({@code min = max}, Celery's {@code -c N})
 *       stays fixed: {@code max - n} too (not below 1). A pool that keeps none already ({@code min
 *       = 0 < max}) answers an error that points to {@code autoscale}.
 *   <li>{@code autoscale max min} (either may be left out: unchanged): the bounds, as Celery's
 *       autoscaler takes them; idle children above the new ones exit now.
 * </ul>
 *
 * <p>No running task is killed: a busy child above a lowered {@code max} exits after its task. The
 * {@code max} is at most the worker's capacity, the deliveries it holds at once, which its prefetch
 * was sized for at start. Bad arguments, and a worker without a process pool, answer {@code
 * {"error": …}}; the worker goes on. Bounds set here last until the worker stops.
 */
final class PoolControl {
  private static final Logger log = LoggerFactory.getLogger(PoolControl.class);

  private final Worker worker;

  PoolControl(Worker worker) {
    this.worker = worker;
  }

  /** {@code {"n": N}}, N 1 when left out, as Celery's. */
  JsonNode grow(JsonNode arguments) {
    return change(
        "pool_grow",
        bounds -> grown(bounds, count(arguments, "n"), ceiling()),
        now -> "pool will grow");
  }

  /** {@code {"n": N}}, N 1 when left out, as Celery's. */
  JsonNode shrink(JsonNode arguments) {
    return change(
        "pool_shrink",
        bounds -> shrunk(bounds, count(arguments, "n"), ceiling()),
        now -> "pool will shrink");
  }

  /** {@code {"max": M, "min": m}}, either may be null or left out. */
  JsonNode autoscale(JsonNode arguments) {
    return change(
        "autoscale",
        bounds ->
            autoscaled(
                bounds, wholeNumber(arguments, "max"), wholeNumber(arguments, "min"), ceiling()),
        now -> "autoscale now max=" + now.max() + " min=" + now.min());
  }

  /**
   * Applies {@code rule} (which reads the arguments, and throws IllegalArgumentException for bad
   * ones) to the pool's bounds, atomically, and answers Celery's text for the new bounds.
   */
  private JsonNode change(
      String command, UnaryOperator<Bounds> rule, Function<Bounds, String> answer) {
    Optional<ProcessPool> pool = worker.processPool();
    if (pool.isEmpty()) {
      return Pidbox.error(
          command
              + ": this worker has no process pool: none of its tasks runs in child processes"
              + " (TaskKind.PROCESS, or every task with LOVAGE_POOL=process)");
    }
    Bounds now;
    try {
      now = pool.get().resize(rule);
    } catch (IllegalArgumentException | IllegalStateException e) {
      log.info("remote control command refused command={} reason=\"{}\"", command, e.getMessage());
      return Pidbox.error(command + ": " + e.getMessage());
    }
    log.info("process pool bounds changed by remote control command={} {}", command, now);
    return Pidbox.ok(answer.apply(now));
  }

  /** The most children the pool may have: more would never run, the worker holds no more tasks. */
  private int ceiling() {
    return worker.settings().capacity();
  }

  static Bounds grown(Bounds bounds, int n, int ceiling) {
    long min = (long) bounds.min() + n;
    return checked(min, Math.max(bounds.max(), min), ceiling);
  }

  static Bounds shrunk(Bounds bounds, int n, int ceiling) {
    boolean fixed = bounds.min() == bounds.max();
    if (bounds.min() == 0 && !fixed) {
      throw new IllegalArgumentException(
          "the pool keeps no idle child already (min=0 max="
              + bounds.max()
              + "): autoscale lowers its max");
    }
    long min = Math.max(0L, (long) bounds.min() - n);
    long max = fixed ? Math.max(1L, (long) bounds.max() - n) : bounds.max();
    return checked(min, Math.max(min, max), ceiling);
  }

  static Bounds autoscaled(Bounds bounds, Integer max, Integer min, int ceiling) {
    return checked(min == null ? bounds.min() : min, max == null ? bounds.max() : max, ceiling);
  }

  private static Bounds checked(long min, long max, int ceiling) {
    if (max > ceiling) {
      throw new IllegalArgumentException(
          "max="
              + max
              + " is above this worker's capacity of "
              + ceiling
              + " tasks at once, which its prefetch was sized for at start: restart it with a"
              + " higher LOVAGE_PROCESS_CONCURRENCY to go further");
    }
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1, got " + max);
    }
    if (min > max) {
      throw new IllegalArgumentException("min=" + min + " is above max=" + max);
    }
    return new Bounds((int) min, (int) max);
  }

  /** A count of children, 1 when left out (Celery's default for pool_grow and pool_shrink). */
  private static int count(JsonNode arguments, String name) {
    Integer n = wholeNumber(arguments, name);
    return n == null ? 1 : n;
  }

  /** A whole number >= 0, or null when left out or null. */
  static Integer wholeNumber(JsonNode arguments, String name) {
    JsonNode value = arguments.path(name);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt() || value.intValue() < 0) {
      throw new IllegalArgumentException(
          name + " must be a whole number >= 0, got " + value.toString());
    }
    return value.intValue();
  }
}
