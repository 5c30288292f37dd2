package io.lovage.worker.app.demo;

import io.lovage.TaskCall;
import io.lovage.TaskKind;
import io.lovage.TaskModule;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/** Example tasks in the {@code demo} namespace, documented in docs/worker.md, "Demo tasks". */
@Singleton
public final class DemoTasks implements TaskModule {
  /** demo.primes refuses larger inputs: its sieve takes n/8 bytes of memory. */
  public static final long MAX_PRIMES_INPUT = 500_000_000L;

  /** demo.flaky's retry policy: at most this many retries, one second apart. */
  public static final int MAX_FLAKY_RETRIES = 5;

  /** A demo.mark key: one word, so that each run stays one line of the mark file. */
  private static final Pattern MARK_KEY = Pattern.compile("[\\w.:\\-]{1,200}");

  /** Where demo.mark appends a line per run ({@code LOVAGE_DEMO_MARK_FILE}); null when unset. */
  private final Path markFile;

  /**
   * For a process-pool child, which creates task modules by their no-argument constructor: the mark
   * file comes from the environment the child inherits.
   */
  public DemoTasks() {
    this(System.getenv("LOVAGE_DEMO_MARK_FILE"));
  }

  @Inject
  public DemoTasks(@Value("${lovage.demo.mark.file:}") String markFile) {
    this.markFile = markFile == null || markFile.isBlank() ? null : Path.of(markFile);
  }

  @Override
  public void register(TaskRegistry.Builder tasks) {
    tasks
        .register("demo.add", DemoTasks::add)
        .register("demo.echo", call -> call.argNode(0, "value"))
        .register("demo.noop", call -> null)
        .register("demo.sleep", DemoTasks::sleep)
        .register(
            "demo.primes",
            call -> primesBelow(call.arg(0, "n", long.class)),
            TaskOptions.DEFAULT.withKind(TaskKind.CPU))
        .register("demo.spin", DemoTasks::spin, TaskOptions.DEFAULT.withKind(TaskKind.CPU))
        .register("demo.progress", DemoTasks::progress)
        .register("demo.mark", this::mark)
        .register("demo.tally", this::tally)
        .register(
            "demo.crash",
            call -> {
              // Like a native crash or the OOM killer: no shutdown hooks, no acknowledgement.
              Runtime.getRuntime().halt(137);
              return null;
            })
        .register(
            "demo.flaky",
            DemoTasks::flaky,
            TaskOptions.DEFAULT.withRetry(
                io.lovage.RetryPolicy.on(DemoFailure.class)
                    .withMaxRetries(MAX_FLAKY_RETRIES)
                    .withBackoff(java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1))
                    .withoutJitter()))
        .register(
            "demo.fail",
            call -> {
              throw new DemoFailure(call.arg(0, "message", String.class, "demo.fail was called"));
            });
  }

  /**
   * Fails its first {@code failures} runs, then succeeds with the number of the run: a task that
   * shows RETRY (one second apart), then SUCCESS; with more failures than {@value
   * #MAX_FLAKY_RETRIES}, FAILURE.
   */
  static int flaky(TaskCall call) {
    int failures = call.arg(0, "failures", int.class, 1);
    if (call.retries() < failures) {
      throw new DemoFailure(
          "demo.flaky failure " + (call.retries() + 1) + " of " + failures + ", retrying");
    }
    return call.retries() + 1;
  }

  /** x + y: exact for integers of any size, floating point when either is a float. */
  static Object add(TaskCall call) {
    JsonNode x = number(call, 0, "x");
    JsonNode y = number(call, 1, "y");
    if (x.isIntegralNumber() && y.isIntegralNumber()) {
      return x.bigIntegerValue().add(y.bigIntegerValue());
    }
    return new BigDecimal(x.asString()).add(new BigDecimal(y.asString())).doubleValue();
  }

  private static JsonNode number(TaskCall call, int position, String name) {
    JsonNode node = call.arg(position, name, JsonNode.class);
    if (node == null || !node.isNumber()) {
      throw new io.lovage.TaskArgumentException(
          call.name() + "() argument '" + name + "' must be a number");
    }
    return node;
  }

  /** IO-bound: sleeps, holding no CPU; returns the seconds slept. */
  static double sleep(TaskCall call) throws InterruptedException {
    double seconds = call.arg(0, "seconds", double.class);
    if (seconds < 0) {
      throw new io.lovage.TaskArgumentException("demo.sleep() seconds must be >= 0");
    }
    Thread.sleep(Math.round(seconds * 1000));
    return seconds;
  }

  /** A CPU loop that ignores interruption, for hard time limit tests: returns its iterations. */
  static long spin(TaskCall call) {
    long until = System.nanoTime() + Math.round(call.arg(0, "seconds", double.class) * 1e9);
    long spins = 0;
    while (System.nanoTime() < until) {
      spins++;
    }
    return spins;
  }

  /**
   * Leaves a trace of each run for the fault-injection suite, which counts runs per task from it
   * rather than from the task events it is judging: appends {@code "<key> <task id> <pid>"} to the
   * mark file, then sleeps {@code seconds} (default 0) so that the run can be caught in flight.
   * With {@code trace} true it also appends {@code "<key> <task id> <pid> start <epoch ms>"} before
   * the sleep and the same with {@code end} after it, so that runs at once can be counted. Returns
   * the key.
   */
  String mark(TaskCall call) throws IOException, InterruptedException {
    String key = call.arg(0, "key", String.class);
    double seconds = call.arg(1, "seconds", double.class, 0.0);
    if (key == null || !MARK_KEY.matcher(key).matches()) {
      throw new io.lovage.TaskArgumentException(
          "demo.mark() key must be 1 to 200 letters, digits or . _ : -");
    }
    if (seconds < 0) {
      throw new io.lovage.TaskArgumentException("demo.mark() seconds must be >= 0");
    }
    if (markFile == null) {
      throw new IllegalStateException("demo.mark needs LOVAGE_DEMO_MARK_FILE on the worker");
    }
    writeMark(key, call.id(), "");
    boolean trace = Boolean.TRUE.equals(call.arg(2, "trace", Boolean.class, false));
    if (trace) {
      writeMark(key, call.id(), " start " + System.currentTimeMillis());
    }
    Thread.sleep(Math.round(seconds * 1000));
    if (trace) {
      writeMark(key, call.id(), " end " + System.currentTimeMillis());
    }
    return key;
  }

  /**
   * A chord body for the fault-injection suite: leaves a trace of its run in the mark file, as
   * {@code demo.mark} does, under {@code key}, and returns the header results it got.
   */
  Object tally(TaskCall call) throws IOException {
    JsonNode values = call.arg(0, "values", JsonNode.class);
    String key = call.arg(1, "key", String.class);
    if (key == null || !MARK_KEY.matcher(key).matches()) {
      throw new io.lovage.TaskArgumentException(
          "demo.tally() key must be 1 to 200 letters, digits or . _ : -");
    }
    if (markFile == null) {
      throw new IllegalStateException("demo.tally needs LOVAGE_DEMO_MARK_FILE on the worker");
    }
    writeMark(key, call.id(), "");
    return values;
  }

  private void writeMark(String key, String taskId, String more) throws IOException {
    String line = key + " " + taskId + " " + ProcessHandle.current().pid() + more + "\n";
    // One write(2) with O_APPEND: lines of several worker processes never interleave, and the
    // line is in the file before the task can be acknowledged, or its worker killed.
    Files.write(
        markFile,
        line.getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.CREATE,
        StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
  }

  /** Reports progress: {@code steps} steps of {@code seconds} each. */
  static long progress(TaskCall call) throws InterruptedException {
    long steps = call.arg(0, "steps", long.class);
    double seconds = call.arg(1, "seconds", double.class, 0.1);
    for (long i = 1; i <= steps; i++) {
      Thread.sleep(Math.round(seconds * 1000));
      call.progress(i, steps);
    }
    return steps;
  }

  /** CPU-bound: the count of primes below n, by the sieve of Eratosthenes. */
  static long primesBelow(long n) {
    if (n < 0 || n > MAX_PRIMES_INPUT) {
      throw new io.lovage.TaskArgumentException(
          "demo.primes() n must be between 0 and " + MAX_PRIMES_INPUT);
    }
    if (n < 3) {
      return 0;
    }
    int limit = (int) n;
    BitSet composite = new BitSet(limit);
    long count = 0;
    for (int i = 2; i < limit; i++) {
      if (!composite.get(i)) {
        count++;
        for (long j = (long) i * i; j < limit; j += i) {
          composite.set((int) j);
        }
      }
      if ((i & 0xFFFFF) == 0 && Thread.currentThread().isInterrupted()) {
        throw new IllegalStateException("demo.primes interrupted");
      }
    }
    return count;
  }

  /** What demo.fail raises. */
  public static final class DemoFailure extends RuntimeException {
    public DemoFailure(String message) {
      super(message);
    }
  }
}
