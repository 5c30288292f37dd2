package io.lovage.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.testing.Await;
import io.lovage.testing.SettableClock;
import java.time.Duration;
import java.time.Instant;
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

  @Test
  void aScheduledWorkflowRunsAsItsFirstTaskWithTheRestOfTheChainInItsMessage() throws Exception {
    Scheduler scheduler = scheduler();
    Await.until(WAIT, "a leader", scheduler::isLeader);
    tools.jackson.databind.node.ObjectNode chain =
        io.lovage.workflow.CanvasSender.chainOf(
            List.of(signature("demo.add", 10), signature("demo.add", 1, 2)));
    scheduler
        .put(
            new Schedule(
                "nightly",
                null,
                null,
                null,
                null,
                Schedule.When.every(2),
                null,
                CatchUp.ONCE,
                true,
                chain))
        .join();

    clock.set(START.plusSeconds(2));

    Await.until(WAIT, "a run", () -> sent().size() == 1);
    Message run = broker.messages(LovageTopology.DEFAULT_QUEUE).getFirst();
    assertEquals(Scheduler.runId("nightly", Instant.parse("2026-12-01T10:00:02Z")), sent().get(0));
    assertEquals("demo.add", run.headers().get("task"));
    tools.jackson.databind.JsonNode body = io.lovage.protocol.Json.MAPPER.readTree(run.body());
    assertEquals("[1,2]", body.get(0).toString(), "the first step's args");
    tools.jackson.databind.JsonNode later = body.get(2).path("chain");
    assertEquals(1, later.size(), "the second step rides in the message: " + body);
    assertEquals("demo.add", later.get(0).path("task").asString());
    assertTrue(later.get(0).path("options").path("task_id").isString(), "later steps are frozen");
  }

  @Test
  void aScheduleGivenANewTimeRunsAtItsNewTimesOnly() {
    Scheduler scheduler = scheduler();
    Await.until(WAIT, "a leader", scheduler::isLeader);
    scheduler.put(Schedule.of("tick", "demo.add", Schedule.When.every(2))).join();
    clock.set(START.plusSeconds(2)); // 10:00:02.5
    Await.until(WAIT, "the run of 10:00:02", () -> sent().size() == 1);
    assertEquals(
        java.util.Optional.of(Instant.parse("2026-12-01T10:00:04Z")), scheduler.nextRun("tick"));

    scheduler.put(Schedule.of("tick", "demo.add", Schedule.When.every(5))).join();
    assertEquals(
        java.util.Optional.of(Instant.parse("2026-12-01T10:00:05Z")), scheduler.nextRun("tick"));
    clock.set(START.plusSeconds(5)); // 10:00:05.5, past 10:00:04 too

    Await.until(WAIT, "the run of 10:00:05", () -> sent().size() == 2);
    assertEquals(
        List.of(
            Scheduler.runId("tick", Instant.parse("2026-12-01T10:00:02Z")),
            Scheduler.runId("tick", Instant.parse("2026-12-01T10:00:05Z"))),
        sent(),
        "no run at 10:00:04, a time of the old definition");
  }

  @Test
  void aWorkflowThatStartsWithAGroupCannotBeScheduled() {
    tools.jackson.databind.node.ObjectNode group = signature("demo.add", 1, 2);
    group.put("subtask_type", "group");
    group.put("task", "celery.group");
    group.putObject("kwargs").putArray("tasks").add(signature("demo.add", 1, 2));
    Schedule.Invalid refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            Schedule.Invalid.class,
            () ->
                new Schedule(
                    "fan-out",
                    null,
                    null,
                    null,
                    null,
                    Schedule.When.every(60),
                    null,
                    CatchUp.ONCE,
                    true,
                    group));
    assertEquals("workflow", refused.field());
  }

  private static tools.jackson.databind.node.ObjectNode signature(String task, int... args) {
    tools.jackson.databind.node.ObjectNode signature =
        io.lovage.protocol.Json.MAPPER.createObjectNode();
    signature.put("task", task);
    tools.jackson.databind.node.ArrayNode array = signature.putArray("args");
    for (int arg : args) {
      array.add(arg);
    }
    signature.putObject("kwargs");
    signature.putObject("options");
    signature.putNull("subtask_type");
    return signature;
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
}
