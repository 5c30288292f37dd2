package io.lovage.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs every workload against the local RabbitMQ, prints the results table and writes it to {@code
 * bench/results/latest.{md,json,png}} (and a timestamped copy under {@code history/}). Exits 1 if
 * any row could not be measured, never because of speed.
 *
 * <pre>
 * java -jar bench/target/lovage-bench.jar --profile ci|quick|full [--only noop,perftest,celery,rest,pickup,lesson,workflow,schedule,priority,catchup,cluster,hotpath]
 * </pre>
 *
 * Run from the repository root (bench/run.sh does), which is where the jars are found.
 */
public final class BenchMain {
  static final List<String> WORKLOADS =
      List.of(
          "noop",
          "perftest",
          "celery",
          "rest",
          "pickup",
          "lesson",
          "workflow",
          "schedule",
          "priority",
          "catchup",
          "cluster",
          "hotpath");

  private BenchMain() {}

  public static void main(String[] args) throws IOException {
    Map<String, String> options = options(args);
    Profile profile = Profile.named(options.getOrDefault("profile", "full"));
    Set<String> only =
        options.containsKey("only")
            ? Set.copyOf(Arrays.asList(options.get("only").split(",")))
            : Set.copyOf(WORKLOADS);
    if (!WORKLOADS.containsAll(only)) {
      throw new IllegalArgumentException("--only takes some of " + WORKLOADS + ", not " + only);
    }
    Path repo = Path.of(options.getOrDefault("repo", ".")).toAbsolutePath().normalize();
    String uri =
        System.getenv().getOrDefault("RABBITMQ_URI", "amqp://guest:guest@localhost:5672/%2F");
    Instant started = Instant.now();

    BenchContext ctx = new BenchContext(profile, repo, uri);
    // Ctrl-C or a crash: stop every child process and delete the bench's queues all the same.
    Thread cleanup = new Thread(ctx::close, "bench-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    Rows rows = new Rows();
    try {
      run(ctx, rows, only);
    } finally {
      ctx.close();
    }

    Map<String, Object> environment = environment(ctx, profile, started);
    Report report =
        new Report("Lovage benchmarks, profile " + profile.name(), environment, rows.all());
    String markdown = report.markdown();
    System.out.println();
    System.out.println(markdown);
    Path results = repo.resolve("bench/results");
    String stamp =
        DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started);
    boolean everything = only.size() == WORKLOADS.size();
    report.write(
        results.resolve("history"), stamp + "-" + profile.name() + (everything ? "" : "-partial"));
    if (everything) {
      report.write(results, "latest");
      System.out.println("written: bench/results/latest.md, latest.json, latest.png");
    } else {
      System.out.println(
          "written (partial run, latest.* left as they were): bench/results/history/"
              + stamp
              + "*");
    }
    Runtime.getRuntime().removeShutdownHook(cleanup);
    long missing = rows.all().stream().filter(Row::failed).count();
    if (missing > 0) {
      System.out.println(missing + " row(s) could not be measured: see 'error' in the table above");
      System.exit(1);
    }
    System.exit(0);
  }

  /**
   * The worker JVM's CPU per 1,000 tasks in a one-worker no-op row, with the client's and the
   * broker's beside it: what a task costs, which the rate alone does not say on a shared machine.
   */
  private static Row cpuPerThousand(String results, Row noop) {
    String name = "Worker JVM CPU per 1,000 no-op tasks, " + results + " (1 worker, quorum)";
    if (!noop.measured()) {
      return Row.missing(name, "ms", Goal.NONE, "its no-op row was not measured");
    }
    if (!(noop.raw().get(CpuUse.WORKER) instanceof Long worker)) {
      return Row.missing(name, "ms", Goal.NONE, "the worker's CPU time could not be read");
    }
    Map<String, Object> raw = new LinkedHashMap<>();
    for (String key : CpuUse.KEYS) {
      if (noop.raw().containsKey(key)) {
        raw.put(key, noop.raw().get(key));
      }
    }
    return Row.of(name, worker, "ms", Goal.NONE, CpuUse.describe(raw), raw);
  }

  /**
   * How many cores the worker JVM, the client and the broker kept busy together in a one-worker
   * no-op row (their CPU per task times its rate): near the machine's count, a second worker JVM on
   * the same machine has nothing to run on.
   */
  private static Row coresBusy(String results, Row noop) {
    String name =
        "Cores busy in the 1-worker no-op row, "
            + results
            + " (worker + client + broker CPU ÷ time, of "
            + Runtime.getRuntime().availableProcessors()
            + ")";
    if (!noop.measured()) {
      return Row.missing(name, "cores", Goal.NONE, "its no-op row was not measured");
    }
    long perThousand = 0;
    for (String key : List.of(CpuUse.WORKER, CpuUse.CLIENT, CpuUse.BROKER)) {
      if (!(noop.raw().get(key) instanceof Long ms)) {
        return Row.notMeasuredHere(name, "cores", Goal.NONE, "no " + key + " in its no-op row");
      }
      perThousand += ms;
    }
    double cores = perThousand / 1000.0 * noop.value() / 1000.0;
    return Row.of(
        name,
        cores,
        "cores",
        Goal.NONE,
        String.format("%,d ms of CPU per 1,000 tasks × %,.0f tasks/s", perThousand, noop.value()),
        Map.of("cpuMsPer1000", perThousand, "tasksPerSecond", noop.value()));
  }

  /**
   * The ratios of two worker JVMs to one, with results recorded and without: {@code "2 worker JVMs
   * ÷ 1" + where + ", results recorded (quorum)"} and {@code ", no results (quorum)"}.
   */
  private static void scalingRatios(
      Rows rows, String where, NoopThroughput.Scaling scaling, Goal goal) {
    rows.add(
        Row.ratio(
            "2 worker JVMs ÷ 1" + where + ", results recorded (quorum)",
            scaling.twoWith(),
            scaling.oneWith(),
            goal));
    rows.add(
        Row.ratio(
            "2 worker JVMs ÷ 1" + where + ", no results (quorum)",
            scaling.twoWithout(),
            scaling.oneWithout(),
            goal));
  }

  private static void run(BenchContext ctx, Rows rows, Set<String> only) {
    NoopThroughput.Result noop = null;
    if (only.contains("noop")) {
      step("No-op throughput, quorum queue (workload 1)");
      noop = attempt(rows, "No-op throughput", () -> NoopThroughput.run(ctx, rows));
      if (noop != null) {
        rows.add(
            Row.ratio(
                "Global rate limit far above the rate ÷ no limit (1 worker, quorum, no results)",
                noop.globallyLimited(),
                noop.beforeLimit(),
                Goal.atLeast(0.8, "≥ 0.8")));
        // On 2 cores, one worker JVM, the client and RabbitMQ already use both: a second JVM has
        // no CPU to add there. The held rows give each worker JVM a share of its own instead.
        rows.add(coresBusy("results recorded", noop.withResults()));
        rows.add(coresBusy("no results", noop.withoutResults()));
        scalingRatios(
            rows, " on the same 2 cores as RabbitMQ and the client", noop.shared(), Goal.NONE);
        scalingRatios(
            rows,
            String.format(", each held to %.2f core", NoopThroughput.HELD_CORES),
            noop.held(),
            Goal.atLeast(1.6, "≥ 1.6"));
        rows.add(cpuPerThousand("results recorded", noop.withResults()));
        rows.add(cpuPerThousand("no results", noop.withoutResults()));
      }
    }
    if (only.contains("perftest")) {
      step("Raw broker ceiling: RabbitMQ PerfTest (workload 2)");
      Row perfTest = attempt(rows, "PerfTest ceiling", () -> PerfTestCeiling.run(ctx, rows));
      if (noop != null && perfTest != null) {
        rows.add(
            Row.ratio(
                "Lovage ÷ PerfTest, no results (1 worker, quorum)",
                noop.withoutResults(),
                perfTest,
                Goal.atLeast(0.7, "≥ 0.7")));
        rows.add(
            Row.ratio(
                "Lovage ÷ PerfTest, results recorded (1 worker, quorum)",
                noop.withResults(),
                perfTest,
                Goal.atLeast(0.5, "≥ 0.5")));
      }
    }
    if (only.contains("celery")) {
      step("Celery 5.2 on the same broker (workload 3)");
      CeleryComparison.Result celery =
          attempt(rows, "Celery comparison", () -> CeleryComparison.run(ctx, rows));
      if (celery != null) {
        rows.add(
            Row.ratio(
                "Lovage ÷ Celery prefork -c 2, both on classic queues, no results",
                celery.lovageClassic(),
                celery.prefork(),
                Goal.atLeast(4, "≥ 4")));
        if (noop != null) {
          rows.add(
              Row.ratio(
                  "Lovage on quorum ÷ Celery prefork -c 2 on classic, no results",
                  noop.withoutResults(),
                  celery.prefork(),
                  Goal.atLeast(4, "≥ 4")));
        }
        rows.add(
            Row.ratio(
                "Like for like: Lovage ÷ Celery 5.2 prefork -c 2, the same plain classic queue (no"
                    + " priorities), no results",
                celery.lovagePlain(),
                celery.preforkPlain(),
                Goal.atLeast(3, "≥ 3")));
        if (noop != null) {
          rows.add(
              Row.ratio(
                  "Like for like: Lovage ÷ Celery 5.5 prefork -c 2, quorum queues declared alike,"
                      + " no results",
                  noop.withoutResults(),
                  celery.celery55(),
                  Goal.atLeast(3, "≥ 3")));
        }
      }
    }
    if (only.contains("rest")) {
      step("REST submit with wrk, no worker consuming (workload 4)");
      attempt(rows, "REST submit", () -> RestSubmit.run(ctx, rows));
    }
    if (only.contains("pickup")) {
      step("Pickup latency at 100 tasks/s (workload 5)");
      attempt(rows, "Pickup latency", () -> PickupLatency.run(ctx, rows));
    }
    if (only.contains("lesson")) {
      step("The concurrency lesson: IO-bound and CPU-bound tasks (workload 6)");
      attempt(rows, "Concurrency lesson", () -> ConcurrencyLesson.run(ctx, rows));
    }
    if (only.contains("workflow")) {
      step("Workflows: a chord and a chain, Lovage and Celery 5.2 + Redis (workload 7)");
      attempt(rows, "Workflows", () -> WorkflowComparison.run(ctx, rows));
    }
    if (only.contains("schedule")) {
      step("Scheduling precision: 1,000 periodic tasks (workload 8)");
      attempt(rows, "Scheduling precision", () -> SchedulePrecision.run(ctx, rows));
    }
    if (only.contains("priority")) {
      step("Pickup latency of a priority-9 task behind 10,000 queued ones (workload 9)");
      attempt(rows, "Priority pickup latency", () -> PriorityPickup.run(ctx, rows));
    }
    if (only.contains("catchup")) {
      step(
          "Event catch-up: reading the event stream from its start, AMQP and stream protocol"
              + " (workload 10)");
      attempt(rows, "Event catch-up", () -> EventCatchUp.run(ctx, rows));
    }
    if (only.contains("cluster")) {
      step(
          "No-op throughput with 1, 2 and 4 worker JVMs, single node and three-node cluster"
              + " (workload 11)");
      attempt(rows, "Cluster throughput", () -> ClusterThroughput.run(ctx, rows));
    }
    if (only.contains("hotpath")) {
      step("The worker's hot path without a broker, JMH (workload 12)");
      attempt(rows, "Worker hot path", () -> HotPath.run(ctx, rows));
    }
    finishStep();
  }

  /**
   * A workload that fails outside its own rows (a bug in the bench) becomes one missing row, and
   * the next workload still runs.
   */
  private static void attempt(Rows rows, String workload, Runnable run) {
    attempt(
        rows,
        workload,
        () -> {
          run.run();
          return Boolean.TRUE;
        });
  }

  private static <T> T attempt(Rows rows, String workload, java.util.function.Supplier<T> run) {
    try {
      return run.get();
    } catch (RuntimeException e) {
      e.printStackTrace(System.out);
      rows.add(Row.missing(workload, "", Goal.NONE, "the workload failed: " + e));
      return null;
    }
  }

  private static long stepStarted;

  /** Starts a workload, saying how long the one before took: where a run's minutes go. */
  private static void step(String title) {
    finishStep();
    System.out.printf("%n==> %s%n", title);
    stepStarted = System.nanoTime();
  }

  private static void finishStep() {
    if (stepStarted != 0) {
      System.out.printf("  (took %.0f s)%n", (System.nanoTime() - stepStarted) / 1e9);
      stepStarted = 0;
    }
  }

  private static Map<String, Object> environment(
      BenchContext ctx, Profile profile, Instant started) {
    Map<String, Object> env = new LinkedHashMap<>();
    env.put("profile", profile.name());
    env.put(
        "date",
        DateTimeFormatter.ISO_INSTANT.format(
            started.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
    env.put("cores", Runtime.getRuntime().availableProcessors());
    env.put("java", Runtime.version().toString());
    env.put("rabbitmq", rabbitVersion(ctx.rabbitUri()));
    env.put("celery", celeryVersion());
    env.put(
        "minutes",
        String.format("%.1f", (Instant.now().toEpochMilli() - started.toEpochMilli()) / 60_000.0));
    return env;
  }

  private static String rabbitVersion(String uri) {
    try (BrokerQueues queues = new BrokerQueues(uri)) {
      return queues.serverVersion();
    } catch (RuntimeException e) {
      return "unknown";
    }
  }

  private static String celeryVersion() {
    try {
      Process process =
          new ProcessBuilder(CeleryWorker.PYTHON, "-c", "import celery; print(celery.__version__)")
              .redirectErrorStream(true)
              .start();
      String out = new String(process.getInputStream().readAllBytes()).strip();
      return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0 ? out : "unknown";
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  private static Map<String, String> options(String[] args) {
    Map<String, String> options = new LinkedHashMap<>();
    List<String> list = new ArrayList<>(Arrays.asList(args));
    for (int i = 0; i < list.size(); i++) {
      String arg = list.get(i);
      if (!arg.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument " + arg);
      }
      if (arg.equals("--quick")) {
        options.put("profile", "quick");
      } else if (arg.equals("--ci")) {
        options.put("profile", "ci");
      } else if (arg.equals("--full")) {
        options.put("profile", "full");
      } else if (i + 1 < list.size()) {
        options.put(arg.substring(2), list.get(++i));
      } else {
        throw new IllegalArgumentException(arg + " needs a value");
      }
    }
    return options;
  }
}
