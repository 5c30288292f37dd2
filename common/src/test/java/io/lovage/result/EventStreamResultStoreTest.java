package io.lovage.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskState;
import io.lovage.protocol.Json;
import io.lovage.testing.SettableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class EventStreamResultStoreTest {
  /** The events below happen in the first seconds of 1970; the store's clock is a minute later. */
  private final SettableClock clock = new SettableClock(Instant.ofEpochSecond(60));

  private final EventStreamResultStore store =
      new EventStreamResultStore(3, Duration.ofHours(1), clock);

  @Test
  void eventsMoveATaskThroughItsStates() {
    store.apply(
        event(
            "{\"type\": \"task-sent\", \"uuid\": \"t1\", \"name\": \"demo.add\", \"queue\": \"celery\", \"timestamp\": 1.0}"));
    store.apply(
        event(
            "{\"type\": \"task-started\", \"uuid\": \"t1\", \"hostname\": \"w1\", \"timestamp\": 2.0}"));
    store.apply(
        event(
            "{\"type\": \"task-succeeded\", \"uuid\": \"t1\", \"hostname\": \"w1\", \"result\": 5, \"timestamp\": 3.5}"));

    TaskRecord record = store.find("t1").orElseThrow();
    assertEquals(TaskState.SUCCESS, record.state());
    assertEquals(5, record.result().asInt());
    assertEquals("demo.add", record.task());
    assertEquals("celery", record.queue());
    assertEquals("w1", record.worker());
    assertEquals(Instant.ofEpochMilli(3500), record.finished());
  }

  @Test
  void aTaskRecordsItsParentAndRootFromItsEvents() {
    store.apply(
        event(
            "{\"type\": \"task-sent\", \"uuid\": \"t2\", \"name\": \"demo.add\","
                + " \"parent_id\": \"t1\", \"root_id\": \"t0\", \"timestamp\": 1.0}"));
    store.apply(event("{\"type\": \"task-started\", \"uuid\": \"t2\", \"timestamp\": 2.0}"));

    TaskRecord record = store.find("t2").orElseThrow();
    assertEquals("t1", record.parentId());
    assertEquals("t0", record.rootId());
  }

  @Test
  void anEventListenerHearsEachTaskEventWithTheTimeItCarriesAndNothingElse() {
    java.util.List<String> heard = new java.util.ArrayList<>();
    store.onEvent((type, at) -> heard.add(type.type() + "@" + at));

    store.apply(event("{\"type\": \"task-succeeded\", \"uuid\": \"t1\", \"timestamp\": 3.5}"));
    store.apply(event("{\"type\": \"task-succeeded\", \"uuid\": \"t1\"}"));
    store.apply(event("{\"type\": \"worker-heartbeat\", \"hostname\": \"w1\"}"));
    store.apply(event("{\"type\": \"task-failed\"}"));

    assertEquals(
        java.util.List.of("task-succeeded@1970-01-01T00:00:03.500Z", "task-succeeded@null"), heard);
  }

  @Test
  void lateStartedEventDoesNotHideASuccess() {
    store.apply(
        event(
            "{\"type\": \"task-succeeded\", \"uuid\": \"t1\", \"result\": 1, \"timestamp\": 3.0}"));
    store.apply(event("{\"type\": \"task-started\", \"uuid\": \"t1\", \"timestamp\": 2.0}"));

    assertEquals(TaskState.SUCCESS, store.find("t1").orElseThrow().state());
  }

  @Test
  void secondOutcomeOfARedeliveredTaskDoesNotReplaceTheFirst() {
    store.apply(event("{\"type\": \"task-succeeded\", \"uuid\": \"t1\", \"result\": 1}"));
    store.apply(
        event(
            "{\"type\": \"task-failed\", \"uuid\": \"t1\", \"exc_type\": \"X\", \"exc_message\": \"m\"}"));

    TaskRecord record = store.find("t1").orElseThrow();
    assertEquals(TaskState.SUCCESS, record.state());
    assertEquals(null, record.error());
  }

  @Test
  void celeryWorkerFailureEventGivesTheExceptionType() {
    store.apply(
        event(
            "{\"type\": \"task-failed\", \"uuid\": \"t1\", \"exception\": \"ValueError('boom', 42)\", \"traceback\": \"Traceback...\"}"));

    TaskRecord record = store.find("t1").orElseThrow();
    assertEquals(TaskState.FAILURE, record.state());
    assertEquals("ValueError", record.error().type());
    assertEquals("ValueError('boom', 42)", record.error().message());
  }

  @Test
  void celeryFailureWrappedByItsPoolIsNamedFromTheTracebacksLastLine() {
    store.apply(
        event(
            "{\"type\": \"task-failed\", \"uuid\": \"t1\", \"exception\": \"ExceptionWithTraceback()\","
                + " \"traceback\": \"Traceback (most recent call last):\\n  File x\\nbuiltins.ValueError: boom\\n\"}"));

    TaskRecord record = store.find("t1").orElseThrow();
    assertEquals("ValueError", record.error().type());
    assertEquals("boom", record.error().message());
  }

  @Test
  void indexForgetsTheOldestTasksPastItsBound() {
    for (String id : new String[] {"a", "b", "c", "d"}) {
      store.apply(event("{\"type\": \"task-sent\", \"uuid\": \"" + id + "\", \"name\": \"n\"}"));
    }

    assertTrue(store.find("a").isEmpty(), "oldest forgotten");
    assertTrue(store.find("d").isPresent());
  }

  @Test
  void eventsWithoutUuidOrOfUnknownTypeAreIgnored() {
    store.apply(event("{\"type\": \"worker-heartbeat\", \"hostname\": \"w\"}"));
    store.apply(event("{\"type\": \"task-sent\"}"));

    assertTrue(store.find("w").isEmpty());
  }

  @Test
  void aTaskSilentForLongerThanTheExpiryIsNoLongerFound() {
    store.apply(
        event(
            "{\"type\": \"task-succeeded\", \"uuid\": \"t1\", \"result\": 1, \"timestamp\": 3.0}"));
    assertTrue(store.find("t1").isPresent());

    clock.set(Instant.ofEpochSecond(3).plus(Duration.ofHours(1)).plusSeconds(1));

    assertTrue(store.find("t1").isEmpty(), "expired an hour after its last event");
    assertTrue(store.recent(null, null, 0, 10).isEmpty(), "nor listed");
  }

  @Test
  void expiredTasksAreDroppedFromMemoryAsNewEventsArrive() {
    store.apply(event("{\"type\": \"task-sent\", \"uuid\": \"old\", \"timestamp\": 1.0}"));
    clock.set(Instant.ofEpochSecond(1).plus(Duration.ofHours(2)));
    long now = clock.instant().getEpochSecond();

    store.apply(event("{\"type\": \"task-sent\", \"uuid\": \"new\", \"timestamp\": " + now + "}"));
    clock.set(Instant.ofEpochSecond(0));

    assertTrue(store.find("old").isEmpty(), "gone, not only hidden: visible again if it were kept");
    assertTrue(store.find("new").isPresent());
  }

  @Test
  void aSentEventReadAfterTheOutcomeOfATaskMemoryEvictedKeepsTheOutcome() {
    EventStreamResultStore small = archivingStore();
    small.apply(event("{\"type\": \"task-succeeded\", \"uuid\": \"t1\", \"result\": 5}"));
    small.apply(event("{\"type\": \"task-sent\", \"uuid\": \"t2\", \"name\": \"n\"}"));

    // Published once the task was confirmed: a fast worker's outcome came first.
    small.apply(event("{\"type\": \"task-sent\", \"uuid\": \"t1\", \"name\": \"n\"}"));

    TaskRecord record = small.find("t1").orElseThrow();
    assertEquals(TaskState.SUCCESS, record.state());
    assertEquals(5, record.result().asInt());
  }

  @Test
  void aTaskRecordedAsSentAfterMemoryEvictedItsOutcomeKeepsTheOutcome() {
    EventStreamResultStore small = archivingStore();
    small.apply(event("{\"type\": \"task-succeeded\", \"uuid\": \"t1\", \"result\": 5}"));
    small.apply(event("{\"type\": \"task-sent\", \"uuid\": \"t2\", \"name\": \"n\"}"));

    small.recordSent(
        io.lovage.protocol.TaskMessage.builder("n").id("t1").build(), "celery", clock.instant());

    assertEquals(TaskState.SUCCESS, small.find("t1").orElseThrow().state());
  }

  @Test
  void aTaskRecordedAsSentWithItsIntakeMarkStillKeepsAnOutcomeMemoryEvictedAfterTheMark() {
    EventStreamResultStore small = archivingStore();
    long intake = small.intake();
    small.apply(event("{\"type\": \"task-succeeded\", \"uuid\": \"t1\", \"result\": 5}"));
    small.apply(event("{\"type\": \"task-sent\", \"uuid\": \"t2\", \"name\": \"n\"}"));

    small.recordSent(
        io.lovage.protocol.TaskMessage.builder("n").id("t1").build(),
        "celery",
        clock.instant(),
        intake);

    assertEquals(TaskState.SUCCESS, small.find("t1").orElseThrow().state());
  }

  @Test
  void aNewTaskRecordedAsSentIsNotSearchedForInTheArchiveWhileFewTasksCameInSinceItsMark() {
    java.util.concurrent.atomic.AtomicInteger searches =
        new java.util.concurrent.atomic.AtomicInteger();
    TaskArchive counting =
        new TaskArchive() {
          @Override
          public void put(TaskRecord record) {}

          @Override
          public java.util.Optional<TaskRecord> find(String id) {
            searches.incrementAndGet();
            return java.util.Optional.empty();
          }

          @Override
          public void close() {}
        };
    EventStreamResultStore store =
        new EventStreamResultStore(3, Duration.ofHours(1), clock, counting);
    long intake = store.intake();
    store.apply(event("{\"type\": \"task-sent\", \"uuid\": \"other\", \"name\": \"n\"}"));
    searches.set(0); // an event of a task memory does not hold looks in the archive

    store.recordSent(
        io.lovage.protocol.TaskMessage.builder("n").id("t1").build(),
        "celery",
        clock.instant(),
        intake);
    assertEquals(0, searches.get(), "one task came in since the mark, memory holds 3");

    store.recordSent(
        io.lovage.protocol.TaskMessage.builder("n").id("t2").build(), "celery", clock.instant());
    assertEquals(1, searches.get(), "without a mark the archive is searched");
    assertEquals(TaskState.PENDING, store.find("t1").orElseThrow().state());
  }

  @Test
  void aTaskIsFoundWhileItMovesFromMemoryToASlowArchiveAndClosingWaitsForIt() throws Exception {
    java.util.Map<String, TaskRecord> kept = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch mayWrite = new java.util.concurrent.CountDownLatch(1);
    EventStreamResultStore small =
        new EventStreamResultStore(
            1,
            Duration.ofHours(1),
            clock,
            archiveIn(
                kept,
                () -> {
                  writing.countDown();
                  try {
                    mayWrite.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }));
    small.apply(event("{\"type\": \"task-succeeded\", \"uuid\": \"t1\", \"result\": 5}"));
    small.apply(event("{\"type\": \"task-sent\", \"uuid\": \"t2\", \"name\": \"n\"}"));
    assertTrue(writing.await(10, java.util.concurrent.TimeUnit.SECONDS), "t1 on its way");

    assertEquals(TaskState.SUCCESS, small.find("t1").orElseThrow().state());
    assertTrue(kept.isEmpty(), "not written yet");

    Thread closing = Thread.ofVirtual().start(small::close);
    closing.join(200);
    assertTrue(closing.isAlive(), "close waits for the evicted task to reach the archive");
    mayWrite.countDown();
    closing.join(10_000);
    assertFalse(closing.isAlive());
    assertEquals(TaskState.SUCCESS, kept.get("t1").state());
  }

  @Test
  void aClosedStoreHandsNothingMoreToItsArchive() {
    java.util.Map<String, TaskRecord> kept = new java.util.concurrent.ConcurrentHashMap<>();
    EventStreamResultStore small =
        new EventStreamResultStore(1, Duration.ofHours(1), clock, archiveIn(kept, () -> {}));
    small.apply(event("{\"type\": \"task-sent\", \"uuid\": \"t1\", \"name\": \"n\"}"));
    small.close();

    // A request or an event still in flight while the producer shuts down.
    small.apply(event("{\"type\": \"task-sent\", \"uuid\": \"t2\", \"name\": \"n\"}"));
    small.apply(event("{\"type\": \"task-sent\", \"uuid\": \"t3\", \"name\": \"n\"}"));

    assertTrue(kept.isEmpty(), "the closed archive was given " + kept.keySet());
  }

  /** One task in memory, the others in an archive that keeps every record. */
  private EventStreamResultStore archivingStore() {
    return new EventStreamResultStore(
        1,
        Duration.ofHours(1),
        clock,
        archiveIn(new java.util.concurrent.ConcurrentHashMap<>(), () -> {}));
  }

  /**
   * An archive that keeps every record in {@code kept} (concurrent: the store hands evicted records
   * to its archive on a thread of its own), calling {@code beforePut} before each.
   */
  private static TaskArchive archiveIn(java.util.Map<String, TaskRecord> kept, Runnable beforePut) {
    return new TaskArchive() {
      @Override
      public void put(TaskRecord record) {
        beforePut.run();
        kept.put(record.id(), record);
      }

      @Override
      public java.util.Optional<TaskRecord> find(String id) {
        return java.util.Optional.ofNullable(kept.get(id));
      }

      @Override
      public void close() {}
    };
  }

  private static JsonNode event(String json) {
    return Json.MAPPER.readTree(json);
  }
}
