package io.lovage.producer;

import io.lovage.TaskState;
import io.lovage.result.TaskEvent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Task events counted by outcome in fixed time buckets over a recent window, for the overview's
 * tasks-per-second chart. Memory is fixed: one counter per outcome and bucket, in a ring that the
 * newest bucket overwrites. Events are counted at the time they carry, so the history the producer
 * reads when it starts fills the window as it was.
 */
final class TaskThroughput {
  /** The events counted, in the order the chart lists them. */
  static final List<TaskEvent> OUTCOMES =
      List.of(
          TaskEvent.SENT,
          TaskEvent.SUCCEEDED,
          TaskEvent.FAILED,
          TaskEvent.RETRIED,
          TaskEvent.REVOKED,
          TaskEvent.REJECTED);

  static final Duration BUCKET = Duration.ofSeconds(5);
  static final Duration WINDOW = Duration.ofMinutes(15);

  /** One outcome over the window: events per second in each bucket, oldest first. */
  record Series(TaskEvent outcome, List<Chart.Point> perSecond, long total) {
    TaskState state() {
      return outcome.state();
    }
  }

  private final long bucketMillis;
  private final long[] bucketOf;
  private final long[][] counts;
  private final Clock clock;

  TaskThroughput(Duration bucket, Duration window, Clock clock) {
    this.bucketMillis = bucket.toMillis();
    int buckets = (int) Math.max(1, window.toMillis() / bucketMillis);
    this.bucketOf = new long[buckets];
    java.util.Arrays.fill(bucketOf, Long.MIN_VALUE);
    this.counts = new long[buckets][OUTCOMES.size()];
    this.clock = clock;
  }

  TaskThroughput(Clock clock) {
    this(BUCKET, WINDOW, clock);
  }

  /**
   * Counts one event at the time it carries (now when it carries none, or one in the future);
   * events of other types, and those older than the window, are not counted.
   */
  synchronized void record(TaskEvent type, Instant at) {
    int outcome = OUTCOMES.indexOf(type);
    if (outcome < 0) {
      return;
    }
    long now = index(clock.instant());
    long bucket = at == null ? now : Math.min(now, index(at));
    if (bucket <= now - bucketOf.length) {
      return;
    }
    int slot = slot(bucket);
    if (bucketOf[slot] != bucket) {
      if (bucketOf[slot] > bucket) {
        return;
      }
      bucketOf[slot] = bucket;
      java.util.Arrays.fill(counts[slot], 0);
    }
    counts[slot][outcome]++;
  }

  /**
   * Each outcome's rate per bucket over the window, oldest first: complete buckets only, each point
   * at its bucket's end; the total also counts the bucket under way.
   */
  synchronized List<Series> series() {
    long now = index(clock.instant());
    Map<TaskEvent, List<Chart.Point>> points = new EnumMap<>(TaskEvent.class);
    Map<TaskEvent, Long> totals = new EnumMap<>(TaskEvent.class);
    for (TaskEvent outcome : OUTCOMES) {
      points.put(outcome, new ArrayList<>(bucketOf.length));
      totals.put(outcome, 0L);
    }
    double seconds = bucketMillis / 1000.0;
    for (long bucket = now - bucketOf.length + 1; bucket <= now; bucket++) {
      int slot = slot(bucket);
      boolean kept = bucketOf[slot] == bucket;
      for (int i = 0; i < OUTCOMES.size(); i++) {
        long n = kept ? counts[slot][i] : 0;
        TaskEvent outcome = OUTCOMES.get(i);
        totals.merge(outcome, n, Long::sum);
        if (bucket < now) {
          points
              .get(outcome)
              .add(new Chart.Point(Instant.ofEpochMilli((bucket + 1) * bucketMillis), n / seconds));
        }
      }
    }
    return OUTCOMES.stream()
        .map(o -> new Series(o, List.copyOf(points.get(o)), totals.get(o)))
        .toList();
  }

  /** How many buckets the ring holds: its memory does not grow with the events counted. */
  int buckets() {
    return bucketOf.length;
  }

  private long index(Instant at) {
    return Math.floorDiv(at.toEpochMilli(), bucketMillis);
  }

  private int slot(long bucket) {
    return (int) Math.floorMod(bucket, (long) bucketOf.length);
  }
}
