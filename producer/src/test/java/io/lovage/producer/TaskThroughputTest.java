package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.result.TaskEvent;
import io.lovage.testing.SettableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class TaskThroughputTest {
  private static final Instant T0 = Instant.parse("2026-12-02T12:00:00Z");
  private final SettableClock clock = new SettableClock(T0);
  private final TaskThroughput throughput =
      new TaskThroughput(Duration.ofSeconds(5), Duration.ofMinutes(1), clock);

  @Test
  void tenSuccessesInOneFiveSecondBucketAreTwoPerSecondOnceTheBucketIsComplete() {
    for (int i = 0; i < 10; i++) {
      throughput.record(TaskEvent.SUCCEEDED, T0.plusMillis(100 * i));
    }
    assertEquals(10, series(TaskEvent.SUCCEEDED).total(), "the bucket under way counts in total");
    assertEquals(0, series(TaskEvent.SUCCEEDED).perSecond().getLast().value(), "not drawn yet");

    clock.set(T0.plusSeconds(5));

    List<Chart.Point> points = series(TaskEvent.SUCCEEDED).perSecond();
    assertEquals(2.0, points.getLast().value());
    assertEquals(T0.plusSeconds(5), points.getLast().at(), "a point at its bucket's end");
    assertEquals(0, series(TaskEvent.FAILED).total(), "each outcome counted apart");
  }

  @Test
  void eventsLeaveTheWindowAndMemoryStaysTheSameSize() {
    throughput.record(TaskEvent.FAILED, T0);
    assertEquals(12, throughput.buckets());

    clock.set(T0.plusSeconds(59));
    assertEquals(1, series(TaskEvent.FAILED).total());
    clock.set(T0.plusSeconds(61));
    assertEquals(0, series(TaskEvent.FAILED).total(), "older than the window");

    for (int i = 0; i < 10_000; i++) {
      clock.set(T0.plusSeconds(i));
      throughput.record(TaskEvent.SUCCEEDED, clock.instant());
    }
    assertEquals(12, throughput.buckets());
    assertEquals(11, series(TaskEvent.SUCCEEDED).perSecond().size(), "complete buckets only");
    assertEquals(60, series(TaskEvent.SUCCEEDED).total(), "one a second over the last minute");
  }

  @Test
  void historyIsCountedAtTheTimeItCarriesAndOldOrUncountedEventsAreIgnored() {
    clock.set(T0.plusSeconds(30));
    throughput.record(TaskEvent.RETRIED, T0.plusSeconds(2));
    throughput.record(TaskEvent.RETRIED, T0.minusSeconds(120));
    throughput.record(TaskEvent.STARTED, T0.plusSeconds(2));
    throughput.record(TaskEvent.SENT, null);

    List<Chart.Point> retried = series(TaskEvent.RETRIED).perSecond();
    assertEquals(0.2, retried.get(retried.size() - 6).value(), 1e-9, "in the bucket of T0+2s");
    assertEquals(1, series(TaskEvent.RETRIED).total());
    assertEquals(1, series(TaskEvent.SENT).total(), "no time: counted now");
    assertEquals(TaskThroughput.OUTCOMES.size(), throughput.series().size());
  }

  private TaskThroughput.Series series(TaskEvent outcome) {
    return throughput.series().stream()
        .filter(s -> s.outcome() == outcome)
        .findFirst()
        .orElseThrow();
  }
}
