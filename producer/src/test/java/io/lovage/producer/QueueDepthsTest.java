package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueueDepthsTest {
  private static final Instant T0 = Instant.parse("2026-12-02T12:00:00Z");

  private static RabbitManagement.QueueStats queue(String name, long ready, long unacked) {
    return new RabbitManagement.QueueStats(name, "quorum", ready, unacked, 1, 0, 0, 0);
  }

  @Test
  void keepsOnlyTheWindowsSamplesAndTheTaskQueues() {
    QueueDepths depths = new QueueDepths(Duration.ofSeconds(5), Duration.ofSeconds(20));
    for (int i = 0; i < 100; i++) {
      depths.add(
          T0.plusSeconds(5L * i),
          List.of(
              queue("celery", i, 1),
              queue("lovage.events", 9, 0),
              queue("celery.dead-letter", 5, 0),
              queue("w1@host.celery.pidbox", 0, 0)));
    }

    assertEquals(4, depths.size());
    List<QueueDepths.Series> series = depths.series(10);
    assertEquals(List.of("celery"), series.stream().map(QueueDepths.Series::queue).toList());
    assertEquals(
        List.of(96.0, 97.0, 98.0, 99.0),
        series.getFirst().ready().stream().map(Chart.Point::value).toList());
    assertEquals(new QueueDepths.Depth(99, 1), series.getFirst().latest());
  }

  @Test
  void showsTheDeepestQueuesFirstUpToTheLimitAndNoMoreThanItKeeps() {
    QueueDepths depths = new QueueDepths();
    List<RabbitManagement.QueueStats> many = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      many.add(queue("q" + i, i, 0));
    }
    depths.add(T0, many);

    List<QueueDepths.Series> top = depths.series(3);
    assertEquals(
        List.of("q499", "q498", "q497"), top.stream().map(QueueDepths.Series::queue).toList());
    assertEquals(QueueDepths.MAX_QUEUES, depths.series(1000).size());
  }

  @Test
  void noSampleYetIsNoSeries() {
    assertEquals(List.of(), new QueueDepths().series(5));
  }
}
