package io.lovage.worker.app;

import io.lovage.TaskFuture;
import io.lovage.TaskKind;
import io.lovage.TaskRegistry;
import io.lovage.broker.BrokerSettings;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerSettings;
import io.lovage.worker.app.demo.DemoTasks;
import io.lovage.worker.process.ChildMain;
import io.lovage.worker.process.ProcessPoolSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Times the same CPU-bound workload, {@code demo.primes}, on the CPU thread pool and on the process
 * pool with the same concurrency, through a real RabbitMQ ({@code RABBITMQ_URI}). Not a test: run
 * it by hand, e.g.
 *
 * <pre>
 * ./mvnw -B -ntp -q -pl common,service-support,worker test-compile dependency:build-classpath \
 *     -Dmdep.outputFile=/tmp/worker-test.cp -Dmdep.includeScope=test
 * java -cp worker/target/test-classes:worker/target/classes:common/target/classes:$(cat /tmp/worker-test.cp) \
 *     io.lovage.worker.app.ProcessPoolBenchmark [tasks=24] [n=30000000] [concurrency=cores] [rounds=3]
 * </pre>
 *
 * Each round starts a fresh worker per pool, warms it up with two tasks per slot (the JIT of every
 * child too), then times {@code tasks} tasks submitted at once until the last result is back.
 */
public final class ProcessPoolBenchmark {
  private ProcessPoolBenchmark() {}

  private record Run(String pool, double startupSeconds, double seconds, long childrenRss) {}

  public static void main(String[] args) throws Exception {
    int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 24;
    long n = args.length > 1 ? Long.parseLong(args[1]) : 30_000_000L;
    int concurrency =
        args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
    TaskRegistry.Builder builder = TaskRegistry.builder();
    new DemoTasks().register(builder);
    TaskRegistry registry = builder.build();

    List<Run> runs = new ArrayList<>();
    for (int round = 1; round <= rounds; round++) {
      for (boolean processes : new boolean[] {false, true}) {
        Run run = run(registry, processes, tasks, n, concurrency);
        runs.add(run);
        System.err.printf(
            Locale.ROOT,
            "round %d %-8s startup %.2f s, %d tasks in %.2f s%n",
            round,
            run.pool(),
            run.startupSeconds(),
            tasks,
            run.seconds());
      }
    }
    System.out.printf(
        Locale.ROOT,
        "%d x demo.primes(%,d), concurrency %d, median of %d rounds%n",
        tasks,
        n,
        concurrency,
        rounds);
    System.out.println("| pool | wall time | tasks/s | pool start | children resident |");
    System.out.println("|---|---|---|---|---|");
    for (String pool : List.of("threads", "process")) {
      List<Run> mine = runs.stream().filter(r -> r.pool().equals(pool)).toList();
      double seconds = median(mine.stream().mapToDouble(Run::seconds).toArray());
      System.out.printf(
          Locale.ROOT,
          "| %s | %.2f s | %.2f | %.2f s | %s |%n",
          pool,
          seconds,
          tasks / seconds,
          median(mine.stream().mapToDouble(Run::startupSeconds).toArray()),
          pool.equals("process") ? (mine.getLast().childrenRss() >> 20) + " MiB" : "-");
    }
  }

  private static Run run(
      TaskRegistry registry, boolean processes, int tasks, long n, int concurrency)
      throws Exception {
    String queue = "bench.procpool." + java.util.UUID.randomUUID().toString().substring(0, 8);
    RabbitBroker broker = RabbitBroker.connect(BrokerSettings.of(uri(), "ProcessPoolBenchmark"));
    ProcessPoolSettings pool =
        ProcessPoolSettings.DEFAULT
            .withChildren(concurrency, concurrency)
            .withTaskModules(List.of(DemoTasks.class.getName()));
    WorkerSettings settings =
        new WorkerSettings(
            "bench-" + (processes ? "process" : "threads"),
            List.of(new WorkerSettings.WeightedQueue(queue, 1)),
            WorkerSettings.DEFAULT_IO_CONCURRENCY,
            concurrency,
            Duration.ofSeconds(5),
            QueueType.QUORUM,
            0,
            WorkerSettings.DEFAULT_RESULT_MAX_BYTES,
            processes ? pool.withKinds(EnumSet.allOf(TaskKind.class)) : pool);
    try (io.lovage.TaskClient client = new io.lovage.TaskClient(broker, "bench")) {
      long begin = System.nanoTime();
      Worker worker = new Worker(broker, registry, settings);
      worker.start();
      double startup = (System.nanoTime() - begin) / 1e9;
      try {
        submitAndWait(client, queue, 2 * concurrency, n);
        begin = System.nanoTime();
        submitAndWait(client, queue, tasks, n);
        double seconds = (System.nanoTime() - begin) / 1e9;
        return new Run(
            processes ? "process" : "threads", startup, seconds, processes ? childrenRss() : 0);
      } finally {
        worker.close();
      }
    } finally {
      broker.close();
      deleteQueues(
          queue,
          LovageTopology.deadLetterQueue(queue),
          LovageTopology.brokerDeadLetterQueue(queue));
    }
  }

  private static String uri() {
    String uri = System.getenv("RABBITMQ_URI");
    return uri == null ? "" : uri;
  }

  private static void deleteQueues(String... queues) throws Exception {
    com.rabbitmq.client.ConnectionFactory factory = new com.rabbitmq.client.ConnectionFactory();
    factory.setUri(uri().isEmpty() ? "amqp://guest:guest@localhost:5672/%2F" : uri());
    try (com.rabbitmq.client.Connection connection = factory.newConnection("bench cleanup");
        com.rabbitmq.client.Channel channel = connection.createChannel()) {
      for (String queue : queues) {
        channel.queueDelete(queue);
      }
    }
  }

  private static void submitAndWait(io.lovage.TaskClient client, String queue, int count, long n)
      throws Exception {
    List<TaskFuture> futures = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      futures.add(client.submit(TaskMessage.builder("demo.primes").args(n).build(), queue));
    }
    TaskFuture.allOf(futures).get(10, TimeUnit.MINUTES);
  }

  /** Resident memory of this JVM's pool children, from /proc. */
  private static long childrenRss() {
    return ProcessHandle.current()
        .children()
        .filter(p -> p.info().commandLine().orElse("").contains(ChildMain.MARKER))
        .mapToLong(ProcessPoolBenchmark::rss)
        .sum();
  }

  private static long rss(ProcessHandle process) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", "" + process.pid(), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
        }
      }
    } catch (IOException e) {
      return 0;
    }
    return 0;
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
