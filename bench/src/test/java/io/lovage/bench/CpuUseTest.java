package io.lovage.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CpuUseTest {
  @Test
  void theJitCompilerOfThisJvmHasUsedSomeCpuAndNoMoreThanTheJvm() {
    ProcessHandle self = ProcessHandle.current();
    // Loaded and run this far, the JVM has compiled something.
    Duration jit = CpuUse.jit(self).orElseThrow();
    assertTrue(jit.compareTo(Duration.ZERO) >= 0, jit::toString);
    assertTrue(jit.compareTo(CpuUse.cpu(self).orElseThrow()) <= 0, jit::toString);
  }

  @Test
  void aWarmUpGoesOnWhileTheJitUsesOverATenthOfTheWorkersAndTheClientsCpu() {
    assertTrue(
        CpuUse.compiling(
            Map.of(
                CpuUse.WORKER, 100L,
                CpuUse.WORKER_JIT, 12L,
                CpuUse.CLIENT, 50L,
                CpuUse.CLIENT_JIT, 4L)));
    assertFalse(
        CpuUse.compiling(
            Map.of(
                CpuUse.WORKER, 100L,
                CpuUse.WORKER_JIT, 10L,
                CpuUse.CLIENT, 50L,
                CpuUse.CLIENT_JIT, 5L)));
  }

  @Test
  void theDescriptionSaysWhatTheJitUsedBesideEachJvm() {
    assertEquals(
        "CPU ms per 1,000 tasks: worker 70 (JIT 13), client 30, broker 146",
        CpuUse.describe(
            Map.of(
                CpuUse.WORKER,
                70L,
                CpuUse.WORKER_JIT,
                13L,
                CpuUse.CLIENT,
                30L,
                CpuUse.BROKER,
                146L)));
  }
}
