package io.lovage.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.testing.Await;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SchedulerTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Instant START = Instant.parse("2026-12-01T10:00:00.500Z");
  private final InMemoryBroker broker = new InMemoryBroker();
  private final SettableClock clock = new SettableClock(START);
  private final List<Scheduler> started = new java.util.ArrayList<>();

  @AfterEach
  void stop() {
    started.forEach(Scheduler::close);
    broker.close();
  }

  @Test
  void theLeaderSendsOneRunPerDueTimeEachWithTheIdOfItsScheduleAndTime() {
    Scheduler scheduler = scheduler();
    Await.until(WAIT, "a leader", scheduler::isLeader);
    scheduler.put(Schedule.of("tick", "demo.add", Schedule.When.every(2))).join();

    clock.set(START.plusSeconds(5));

    Await.until(WAIT, "two runs", () -> sent().size() == 2);
    assertEquals(
        List.of(
            Scheduler.runId("tick", Instant.parse("2026-12-01T10:00:02Z")),
            Scheduler.runId("tick", Instant.parse("2026-12-01T10:00:04Z"))),
        sent());
    assertEquals(
        2,
        broker.messages(LovageTopology.SCHEDULE_RUNS_STREAM).stream()
            .filter(m -> m.headers().containsKey(Scheduler.SCHEDULE_HEADER))
            .count(),
        "each run recorded in the runs stream");
  }

  @Test
  void aSecondReplicaTakesOverWhenTheLeaderStopsAndRepeatsNoRun() {
    Scheduler first = scheduler();
    Await.until(WAIT, "a leader", first::isLeader);
    Scheduler second = scheduler();
    first.put(Schedule.of("tick", "demo.add", Schedule.When.every(1))).join();
    clock.set(START.plusSeconds(3));
    Await.until(WAIT, "three runs", () -> sent().size() == 3);
    assertFalse(second.isLeader());

    first.close();
    Await.until(WAIT, "the second replica to lead", second::isLeader);
    clock.set(START.plusSeconds(6));

    Await.until(WAIT, "six runs", () -> sent().size() == 6);
    assertEquals(6, sent().stream().distinct().count(), "no run twice: " + sent());
    assertEquals(1, second.leaderChanges());
  }

  @Test
  void missedRunsFollowTheCatchUpPolicy() {
    Scheduler scheduler = scheduler();
    Instant now = START.plus(Duration.ofMinutes(125)); // 12:05, no run due within the last minute
    for (CatchUp policy : CatchUp.values()) {
      Schedule schedule =
          new Schedule(
              "hourly-" + policy,
              "demo.add",
              null,
              null,
              null,
              Schedule.When.every(600),
              null,
              policy,
              true);
      scheduler.put(schedule).join();
      List<Instant> due = scheduler.dueRuns(schedule, now);
      int expected =
          switch (policy) {
            case ONCE -> 1;
            case SKIP -> 0;
            case ALL -> 12; // every 10 minutes from 10:10 to 12:00
          };
      assertEquals(expected, due.size(), policy + ": " + due);
    }
  }

  @Test
  void aDisabledScheduleSendsNothing() {
    Scheduler scheduler = scheduler();
    Await.until(WAIT, "a leader", scheduler::isLeader);
    scheduler.put(Schedule.of("off", "demo.add", Schedule.When.every(1)).withEnabled(false)).join();
    scheduler.put(Schedule.of("on", "demo.add", Schedule.When.every(1))).join();

    clock.set(START.plusSeconds(2));

    Await.until(WAIT, "the enabled schedule's runs", () -> scheduler.runs("on").size() == 2);
    assertTrue(scheduler.runs("off").isEmpty());
    assertEquals(2, sent().size(), "only the enabled schedule's runs in the queue");
  }

  @org.junit.jupiter.api.BeforeEach
  void declareTheQueue() {
    broker.declare(LovageTopology.taskQueue(LovageTopology.DEFAULT_QUEUE));
  }

  private Scheduler scheduler() {
    Scheduler scheduler =
        new Scheduler(
                broker,
                new TaskClient(broker, "test", io.lovage.broker.QueueType.QUORUM, clock),
                clock)
            .start(true);
    started.add(scheduler);
    return scheduler;
  }

  private List<String> sent() {
    return broker.messages(LovageTopology.DEFAULT_QUEUE).stream()
        .map(Message::headers)
        .map(h -> String.valueOf(h.get("id")))
        .toList();
  }

  /** A clock the test moves. */
  static final class SettableClock extends Clock {
    private volatile Instant now;

    SettableClock(Instant now) {
      this.now = now;
    }

    void set(Instant instant) {
      now = instant;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
