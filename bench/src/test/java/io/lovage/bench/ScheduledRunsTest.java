package io.lovage.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.schedule.Scheduler;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScheduledRunsTest {
  private static final Instant FROM = Instant.parse("2026-12-01T10:00:00Z");
  private static final Instant UNTIL = Instant.parse("2026-12-01T10:00:30Z");

  @Test
  void roundsAreTheMultiplesOfThePeriodInTheWindowItsStartIncluded() {
    assertEquals(
        List.of(FROM, FROM.plusSeconds(10), FROM.plusSeconds(20)),
        ScheduledRuns.ticks(10, FROM, UNTIL));
    assertEquals(
        List.of(FROM.plusSeconds(10), FROM.plusSeconds(20)),
        ScheduledRuns.ticks(10, FROM.plusMillis(1), UNTIL));
  }

  @Test
  void theFirstRoundAfterAnInstantIsTheSchedulersNextRun() {
    assertEquals(FROM.plusSeconds(10), ScheduledRuns.tickAfter(10, FROM.plusMillis(500)));
    assertEquals(FROM.plusSeconds(10), ScheduledRuns.tickAfter(10, FROM));
  }

  @Test
  void eachScheduleOwesOneRunPerRoundKnownByItsRunId() {
    ScheduledRuns runs = ScheduledRuns.of(List.of("a", "b"), 10, FROM, UNTIL);

    runs.started(Scheduler.runId("b", FROM.plusSeconds(20)), FROM.plusSeconds(21));

    assertEquals(6, runs.expected());
    assertEquals(1, runs.seen());
  }

  @Test
  void aRunIsLateByItsStartMinusItsScheduledTime() {
    ScheduledRuns runs = ScheduledRuns.of(List.of("a"), 10, FROM, UNTIL);

    runs.started(Scheduler.runId("a", FROM.plusSeconds(10)), FROM.plusSeconds(10).plusMillis(250));
    runs.started(Scheduler.runId("a", FROM), FROM.plusMillis(40));

    assertEquals(List.of(40.0, 250.0), runs.tally().lateMillis());
  }

  @Test
  void aRunStartedAgainCountsAsTwiceAndKeepsItsFirstStart() {
    ScheduledRuns runs = ScheduledRuns.of(List.of("a"), 10, FROM, UNTIL);
    String id = Scheduler.runId("a", FROM);

    runs.started(id, FROM.plusMillis(5));
    runs.started(id, FROM.plusMillis(5)); // its task-succeeded event repeats the start
    runs.started(id, FROM.plusMillis(900));

    ScheduledRuns.Tally tally = runs.tally();
    assertEquals(1, tally.seen());
    assertEquals(1, tally.twice());
    assertEquals(List.of(5.0), tally.lateMillis());
  }

  @Test
  void runsThatNeverStartedAreMissedAndOtherTasksAreIgnored() {
    ScheduledRuns runs = ScheduledRuns.of(List.of("a"), 10, FROM, UNTIL);

    runs.started("some-other-task", FROM);
    runs.started(Scheduler.runId("a", UNTIL), UNTIL); // the round after the window
    runs.started(Scheduler.runId("a", FROM), FROM.plusMillis(3));

    ScheduledRuns.Tally tally = runs.tally();
    assertEquals(3, tally.expected());
    assertEquals(1, tally.seen());
    assertEquals(2, tally.missed());
  }
}
