package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskState;
import io.lovage.protocol.Json;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskArguments;
import io.lovage.result.TaskRecord;
import io.lovage.testing.SettableClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.node.ObjectNode;

/** A results store with a small memory still finds every task its archive kept on disk. */
class DiskTaskArchiveTest {
  @TempDir Path directory;

  private final Clock clock = Clock.systemUTC();

  @Test
  void aStoreThatHolds1000TasksInMemoryFindsEachOf10000() {
    List<String> ids = IntStream.range(0, 10_000).mapToObj(i -> "task-" + i).toList();
    try (EventStreamResultStore results = store(1_000)) {
      for (String id : ids) {
        results.apply(event("task-sent", id).put("name", "demo.add"));
        results.apply(event("task-succeeded", id).put("result", "3"));
      }

      for (String id : ids) {
        TaskRecord record = results.find(id).orElseThrow(() -> new AssertionError(id));
        assertEquals(TaskState.SUCCESS, record.state(), id);
        assertEquals("demo.add", record.task(), id);
        assertEquals(3, record.result().asInt(), id);
      }
    }
  }

  @Test
  void aLaterEventOfAnEvictedTaskGoesOnFromWhatTheArchiveKept() {
    try (EventStreamResultStore results = store(10)) {
      results.apply(
          event("task-sent", "slow")
              .put("name", "demo.sleep")
              .put("args_json", "[1.5]")
              .put("kwargs_json", "{}"));
      results.apply(event("task-started", "slow").put("hostname", "worker-1"));
      IntStream.range(0, 100).forEach(i -> results.apply(event("task-sent", "other-" + i)));

      results.apply(event("task-succeeded", "slow").put("result", "1"));

      TaskRecord slow = results.find("slow").orElseThrow();
      assertEquals(TaskState.SUCCESS, slow.state());
      assertEquals("demo.sleep", slow.task(), "the name came with the sent event, now on disk");
      assertEquals("worker-1", slow.worker());
      assertEquals(new TaskArguments("[1.5]", "{}", false), slow.arguments(), "kept on disk too");
      assertTrue(slow.sent() != null && slow.started() != null && slow.finished() != null);
    }
  }

  @Test
  void tasksOfSegmentsClosedWhenTheirTableFilledAreStillFoundAndTheLatestRecordWins()
      throws Exception {
    Instant start = Instant.parse("2026-12-02T00:00:00Z");
    SettableClock now = new SettableClock(start);
    // Tables of 4 slots growing to 16: a segment closes at 8 tasks, its table then on disk.
    DiskTaskArchive archive = new DiskTaskArchive(directory, Duration.ofDays(1), now, 4, 16);
    for (int i = 0; i < 100; i++) {
      archive.put(record("task-" + i, start.plusMillis(i)));
    }
    archive.put(record("task-3", start.plusSeconds(60), TaskState.SUCCESS));

    for (int i = 0; i < 100; i++) {
      assertTrue(archive.find("task-" + i).isPresent(), "task-" + i);
    }
    assertEquals(TaskState.SUCCESS, archive.find("task-3").orElseThrow().state());
    assertFalse(archive.find("task-100").isPresent());
    try (var tables = Files.list(directory)) {
      assertEquals(
          12,
          tables.filter(f -> f.toString().endsWith(".table")).count(),
          "one per closed segment");
    }
    archive.close();
  }

  @Test
  void anArchiveForgetsTasksPastTheExpiryAndDeletesItsFileOnClose() throws Exception {
    Instant start = Instant.parse("2026-12-02T00:00:00Z");
    SettableClock now = new SettableClock(start);
    DiskTaskArchive archive = DiskTaskArchive.create(directory, Duration.ofHours(8), now);
    archive.put(record("old", start));
    now.set(start.plus(Duration.ofHours(10)));
    archive.put(record("new", now.instant()));

    assertFalse(archive.find("old").isPresent(), "its generation was dropped");
    assertTrue(archive.find("new").isPresent());
    archive.close();
    try (var files = Files.list(directory)) {
      assertEquals(0, files.count(), "no file left");
    }
  }

  @Test
  void aNewArchiveDeletesThoseOfProducersNoLongerRunningAndKeepsTheOthers() throws Exception {
    Process exited = new ProcessBuilder("true").start();
    exited.waitFor();
    Path dead = Files.createDirectories(directory.resolve("lovage-results-" + exited.pid()));
    Files.writeString(dead.resolve("0.log"), "records");
    long alive = ProcessHandle.current().parent().orElseThrow().pid();
    Path running = Files.createDirectories(directory.resolve("lovage-results-" + alive));
    Path other = Files.createDirectories(directory.resolve("lovage-results-other"));

    DiskTaskArchive archive = DiskTaskArchive.create(directory, Duration.ofDays(1), clock);

    assertFalse(Files.exists(dead), "its producer has exited");
    assertTrue(Files.exists(running), "its producer still runs");
    assertTrue(Files.exists(other), "not a name an archive has");
    archive.close();
  }

  @Test
  void aClosedArchiveTakesNoRecordAndLeavesNoFile() throws Exception {
    DiskTaskArchive archive = DiskTaskArchive.create(directory, Duration.ofDays(1), clock);
    archive.put(record("before", clock.instant()));
    archive.close();

    archive.put(record("after", clock.instant()));

    assertFalse(archive.find("after").isPresent());
    try (var files = Files.list(directory)) {
      assertEquals(0, files.count(), "no file made again");
    }
  }

  private EventStreamResultStore store(int maxTasks) {
    return new EventStreamResultStore(
        maxTasks,
        Duration.ofDays(1),
        clock,
        DiskTaskArchive.create(directory, Duration.ofDays(1), clock));
  }

  private ObjectNode event(String type, String id) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("type", type);
    event.put("uuid", id);
    event.put("timestamp", clock.millis() / 1000.0);
    return event;
  }

  private static TaskRecord record(String id, Instant sent) {
    return record(id, sent, TaskState.PENDING);
  }

  private static TaskRecord record(String id, Instant sent, TaskState state) {
    return new TaskRecord(
        id,
        "demo.add",
        state,
        null,
        null,
        0,
        "celery",
        null,
        sent,
        null,
        null,
        null,
        null,
        null,
        null,
        null);
  }
}
