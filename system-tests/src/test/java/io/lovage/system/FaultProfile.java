package io.lovage.system;

/**
 * How much the fault-injection suite does. {@code ci} runs on every {@code ./mvnw verify} within a
 * few minutes; {@code full} ({@code -Dfaults=full}) runs every scenario at full size, including
 * those that take the whole broker node down and the soak.
 *
 * @param killTasks tasks of scenario 1 (a worker killed with SIGKILL)
 * @param restartTasks tasks submitted over REST across broker restarts in scenario 2
 * @param nodeRestart whether scenario 2 also stops and starts the whole RabbitMQ node
 * @param stall whether scenario 3 also stalls the worker's connection (noticed by heartbeat only)
 * @param soakTasks tasks of the soak (scenario 8); 0 leaves it out
 * @param soakSeconds how long the soak's submissions are spread over
 * @param schedulerKills how often scenario 11 kills the scheduler's leader, 10 s apart
 * @param rateWindowSeconds how long scenario 12 measures the fleet's rate against its global limit
 * @param concurrencyTasks tasks of scenario 13 (0.3 s each, at most 2 per customer at once)
 * @param clusterTasks tasks submitted over REST in scenario 14, across the loss of a cluster node
 */
record FaultProfile(
    String name,
    int killTasks,
    int restartTasks,
    boolean nodeRestart,
    boolean stall,
    int soakTasks,
    int soakSeconds,
    int schedulerKills,
    int rateWindowSeconds,
    int concurrencyTasks,
    int clusterTasks) {

  static final FaultProfile CI =
      new FaultProfile("ci", 1_000, 1_000, false, true, 0, 0, 3, 30, 240, 10_000);
  static final FaultProfile FULL =
      new FaultProfile("full", 2_000, 10_000, true, true, 50_000, 360, 5, 60, 600, 10_000);

  /** The profile named by the system property {@code lovage.faults} (the pom passes -Dfaults). */
  static FaultProfile current() {
    String name = System.getProperty("lovage.faults", "ci").strip();
    return switch (name) {
      case "", "ci" -> CI;
      case "full" -> FULL;
      default ->
          throw new IllegalArgumentException(
              "-Dfaults=" + name + ": the fault-injection profiles are ci and full");
    };
  }

  boolean full() {
    return this == FULL;
  }
}
