package io.lovage.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Holds a process to a fraction of one core with a Linux control group's CPU quota, as a container
 * limit or a machine of its own per worker would: on 2 cores shared with RabbitMQ and the client,
 * it is how a worker JVM's own CPU becomes the limit of a run, which is what the fleet scaling rows
 * ask of one worker and of two.
 *
 * <p>cgroup v1 ({@code /sys/fs/cgroup/cpu}, {@code cpu.cfs_quota_us}) or v2 ({@code cpu.max}),
 * whichever this machine has writable; {@link #unavailable()} says why neither is.
 */
final class CpuQuota implements AutoCloseable {
  private static final Path V1 = Path.of("/sys/fs/cgroup/cpu");
  private static final Path V2 = Path.of("/sys/fs/cgroup");

  /** The scheduler's accounting period: short, so that a held JVM waits in short stretches. */
  private static final long PERIOD_MICROS = 10_000;

  private static final String UNAVAILABLE =
      "no writable cgroup CPU controller ("
          + V1
          + " or "
          + V2
          + " with cpu enabled) to hold a worker JVM to a CPU quota";

  private final Path group;
  private final Path parent;

  private CpuQuota(Path group, Path parent) {
    this.group = group;
    this.parent = parent;
  }

  /** Why no process can be held here, or empty if one can. */
  static Optional<String> unavailable() {
    return root().isPresent() ? Optional.empty() : Optional.of(UNAVAILABLE);
  }

  /** The writable hierarchy the groups go in: cgroup v1's cpu controller, else v2's root. */
  private static Optional<Path> root() {
    if (Files.isWritable(V1.resolve("cgroup.procs"))) {
      return Optional.of(V1);
    }
    try {
      Path control = V2.resolve("cgroup.subtree_control");
      return Files.isWritable(control) && Files.readString(control).contains("cpu")
          ? Optional.of(V2)
          : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Moves the process, all its threads, into a control group of its own allowed {@code cores} of
   * CPU time.
   */
  static CpuQuota hold(String name, ProcessHandle process, double cores) {
    Path root = root().orElseThrow(() -> new IllegalStateException(UNAVAILABLE));
    Path group = root.resolve("lovage-bench-" + name);
    long quota = Math.max(1_000, Math.round(PERIOD_MICROS * cores));
    try {
      Files.createDirectories(group);
      if (root.equals(V1)) {
        Files.writeString(group.resolve("cpu.cfs_period_us"), String.valueOf(PERIOD_MICROS));
        Files.writeString(group.resolve("cpu.cfs_quota_us"), String.valueOf(quota));
      } else {
        Files.writeString(group.resolve("cpu.max"), quota + " " + PERIOD_MICROS);
      }
      Files.writeString(group.resolve("cgroup.procs"), String.valueOf(process.pid()));
    } catch (IOException e) {
      throw new IllegalStateException("cannot hold " + name + " to " + cores + " core", e);
    }
    return new CpuQuota(group, root);
  }

  /**
   * Frees what is still in the group (back to the root group, unheld) and removes the group. A
   * process that has exited has already left it.
   */
  @Override
  public void close() {
    try {
      for (String pid : Files.readAllLines(group.resolve("cgroup.procs"))) {
        if (!pid.isBlank()) {
          try {
            Files.writeString(parent.resolve("cgroup.procs"), pid.strip());
          } catch (IOException exited) {
            // gone meanwhile
          }
        }
      }
      Files.deleteIfExists(group);
    } catch (IOException e) {
      System.out.println("  could not remove the control group " + group + ": " + e.getMessage());
    }
  }
}
