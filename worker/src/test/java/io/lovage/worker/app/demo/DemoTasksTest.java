package io.lovage.worker.app.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
