package io.lovage.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lovage.TaskKind;
import io.lovage.broker.QueueType;
import io.lovage.worker.WorkerSettings;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProcessPoolSettingsTest {

  @Test
  void sizesNeedAUnitAndCountInPowersOf1024() {
    assertEquals(512L << 20, ProcessPoolSettings.parseBytes("X", "512m"));
    assertEquals(2L << 30, ProcessPoolSettings.parseBytes("X", "2G"));
    assertEquals(300_000L << 10, ProcessPoolSettings.parseBytes("X", " 300000k "));
    assertEquals(0, ProcessPoolSettings.parseBytes("X", ""));
    IllegalArgumentException bare =
        assertThrows(
            IllegalArgumentException.class, () -> ProcessPoolSettings.parseBytes("X", "200000"));
    assertEquals(
        "X must be a size with a unit, e.g. 512m, 2g or 300000k; got '200000'", bare.getMessage());
  }

  @Test
  void poolProcessSendsEveryKindOfTaskToTheChildren() {
    assertEquals(EnumSet.of(TaskKind.PROCESS), ProcessPoolSettings.parsePool(""));
    assertEquals(EnumSet.of(TaskKind.PROCESS), ProcessPoolSettings.parsePool("kind"));
    assertEquals(EnumSet.allOf(TaskKind.class), ProcessPoolSettings.parsePool("Process"));
    assertThrows(IllegalArgumentException.class, () -> ProcessPoolSettings.parsePool("prefork"));
  }

  @Test
  void childrenNeedZeroToMinToMax() {
    assertThrows(
        IllegalArgumentException.class, () -> ProcessPoolSettings.DEFAULT.withChildren(3, 2));
    assertThrows(
        IllegalArgumentException.class, () -> ProcessPoolSettings.DEFAULT.withChildren(0, 0));
    assertEquals(0, ProcessPoolSettings.DEFAULT.withChildren(0, 1).min());
  }

  @Test
  void theCapacityCountsThePoolsThatRunTasks() {
    WorkerSettings byKind =
        new WorkerSettings(
            "w",
            List.of(new WorkerSettings.WeightedQueue("q", 1)),
            100,
            4,
            Duration.ofSeconds(1),
            QueueType.QUORUM,
            0,
            1000,
            ProcessPoolSettings.DEFAULT.withChildren(1, 3));

    assertEquals(107, byKind.capacity(), "IO, CPU and process pools");
    assertEquals(
        3,
        byKind
            .withProcesses(byKind.processes().withKinds(ProcessPoolSettings.parsePool("process")))
            .capacity(),
        "only the process pool");
  }
}
