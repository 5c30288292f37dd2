package io.lovage.producer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The task queues' depth (messages ready and unacknowledged) sampled over a recent window, for the
 * overview's chart per queue. Bounded: at most {@link #samples} samples of at most {@link
 * #MAX_QUEUES} queues each; the oldest sample goes when a new one comes.
 */
final class QueueDepths {
  static final Duration INTERVAL = Duration.ofSeconds(5);
  static final Duration WINDOW = Duration.ofMinutes(15);

  /** Queues kept per sample, the deepest first: a broker with thousands of queues costs no more. */
  static final int MAX_QUEUES = 50;

  record Depth(long ready, long unacknowledged) {}

  record Sample(Instant at, Map<String, Depth> queues) {}

  /** One queue over the window, oldest first, with its depth in the latest sample. */
  record Series(String queue, List<Chart.Point> ready, List<Chart.Point> unacked, Depth latest) {}

  private final int samples;
  private final ArrayDeque<Sample> kept;

  QueueDepths(Duration interval, Duration window) {
    this.samples = (int) Math.max(1, window.toMillis() / interval.toMillis());
    this.kept = new ArrayDeque<>(samples);
  }

  QueueDepths() {
    this(INTERVAL, WINDOW);
  }

  /**
   * Adds a sample of the task queues (Lovage's own, the workers' and dead-letter queues left out).
   */
  synchronized void add(Instant at, List<RabbitManagement.QueueStats> queues) {
    Map<String, Depth> depths = new LinkedHashMap<>();
    queues.stream()
        .filter(q -> !OverviewPage.internal(q) && !q.name().contains(DeadLetterPage.SUFFIX))
        .sorted(
            Comparator.comparingLong(
                    (RabbitManagement.QueueStats q) -> q.ready() + q.unacknowledged())
                .reversed()
                .thenComparing(RabbitManagement.QueueStats::name))
        .limit(MAX_QUEUES)
        .forEach(q -> depths.put(q.name(), new Depth(q.ready(), q.unacknowledged())));
    if (kept.size() == samples) {
      kept.removeFirst();
    }
    kept.addLast(new Sample(at, Map.copyOf(depths)));
  }

  /**
   * The queues of the latest sample, at most {@code limit}: those with the most messages over the
   * window first, then by name.
   */
  synchronized List<Series> series(int limit) {
    if (kept.isEmpty()) {
      return List.of();
    }
    Map<String, Depth> latest = kept.getLast().queues();
    List<Series> all = new ArrayList<>();
    for (String queue : latest.keySet()) {
      List<Chart.Point> ready = new ArrayList<>();
      List<Chart.Point> unacked = new ArrayList<>();
      for (Sample s : kept) {
        Depth d = s.queues().get(queue);
        if (d != null) {
          ready.add(new Chart.Point(s.at(), d.ready()));
          unacked.add(new Chart.Point(s.at(), d.unacknowledged()));
        }
      }
      all.add(new Series(queue, List.copyOf(ready), List.copyOf(unacked), latest.get(queue)));
    }
    return all.stream()
        .sorted(Comparator.comparingDouble((Series s) -> -peak(s)).thenComparing(Series::queue))
        .limit(limit)
        .toList();
  }

  synchronized int size() {
    return kept.size();
  }

  private static double peak(Series s) {
    double peak = 0;
    for (int i = 0; i < s.ready().size(); i++) {
      peak = Math.max(peak, s.ready().get(i).value() + s.unacked().get(i).value());
    }
    return peak;
  }
}
