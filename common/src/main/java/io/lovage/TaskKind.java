package io.lovage;

/**
 * What a task mostly waits on, which decides the pool it runs in: the lesson of threads for IO and
 * processes for CPU, on the JVM.
 */
public enum TaskKind {
  /**
   * Waits on the network, disks, other services: runs on a virtual thread, hundreds at once per
   * worker ({@code LOVAGE_IO_CONCURRENCY}).
   */
  IO,
  /**
   * Computes: runs on a platform thread, never more at once than the worker's CPU pool size ({@code
   * LOVAGE_CPU_CONCURRENCY}, the number of cores by default).
   */
  CPU,
  /**
   * Must not share a JVM with other tasks (native code, memory it may exhaust, a crash): runs in a
   * child JVM process that the worker supervises, one task at a time per child ({@code
   * LOVAGE_PROCESS_CONCURRENCY} children at most). A crash costs only that task, and a hard time
   * limit kills the process. Its task must come from a {@link TaskModule} the child can create.
   */
  PROCESS
}
