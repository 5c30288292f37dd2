package io.lovage.worker.app.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskArgumentException;
import io.lovage.TaskCall;
import io.lovage.protocol.TaskMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTasksTest {

  @Test
  void markAppendsOneLineWithKeyTaskIdAndPidPerRun(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("marks.log");
    DemoTasks tasks = new DemoTasks(file.toString());

    tasks.mark(new TaskCall(TaskMessage.builder("demo.mark").id("t-1").args("k-1").build()));
    tasks.mark(new TaskCall(TaskMessage.builder("demo.mark").id("t-1").args("k-1").build()));

    String line = "k-1 t-1 " + ProcessHandle.current().pid();
    assertEquals(List.of(line, line), Files.readAllLines(file));
  }

  @Test
  void aTracedMarkAlsoAppendsItsStartAndEndTimes(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("marks.log");
    DemoTasks tasks = new DemoTasks(file.toString());
    long before = System.currentTimeMillis();

    tasks.mark(
        new TaskCall(
            TaskMessage.builder("demo.mark")
                .id("t-2")
                .args("k-2", 0.05)
                .kwargs(java.util.Map.of("trace", true))
                .build()));

    List<String> lines = Files.readAllLines(file);
    String run = "k-2 t-2 " + ProcessHandle.current().pid();
    assertEquals(run, lines.get(0));
    long start = Long.parseLong(lines.get(1).substring((run + " start ").length()));
    long end = Long.parseLong(lines.get(2).substring((run + " end ").length()));
    assertTrue(before <= start && start + 50 <= end, lines.toString());
  }

  @Test
  void markRefusesAKeyThatWouldSpillOverItsLine(@TempDir Path dir) {
    DemoTasks tasks = new DemoTasks(dir.resolve("marks.log").toString());

    assertThrows(
        TaskArgumentException.class,
        () -> tasks.mark(new TaskCall(TaskMessage.builder("demo.mark").args("a\nb").build())));
  }

  @Test
  void markWithoutAMarkFileFailsSayingWhichSettingIsMissing() {
    DemoTasks tasks = new DemoTasks("");

    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> tasks.mark(new TaskCall(TaskMessage.builder("demo.mark").args("k").build())));
    assertEquals("demo.mark needs LOVAGE_DEMO_MARK_FILE on the worker", e.getMessage());
  }

  @Test
  void flakyFailsItsFirstRunsThenSucceedsWithTheNumberOfItsRun() {
    TaskMessage first = TaskMessage.builder("demo.flaky").args(2).build();
    assertThrows(DemoTasks.DemoFailure.class, () -> DemoTasks.flaky(new TaskCall(first)));
    TaskMessage second = first.toBuilder().retries(1).build();
    assertThrows(DemoTasks.DemoFailure.class, () -> DemoTasks.flaky(new TaskCall(second)));
    TaskMessage third = first.toBuilder().retries(2).build();
    assertEquals(3, DemoTasks.flaky(new TaskCall(third)));
  }
}
