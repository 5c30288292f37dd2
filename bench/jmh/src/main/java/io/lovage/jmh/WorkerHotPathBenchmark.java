package io.lovage.jmh;

import io.lovage.TaskRegistry;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerSettings;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The worker's own cost per task, without a broker: decode, run a no-op task on the IO pool, record
 * its events and acknowledge, on the in-memory broker. A batch of tasks per invocation; the score
 * is tasks per second.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class WorkerHotPathBenchmark {
  private static final int BATCH = 1_000;
  private static final String QUEUE = "jmh";

  /** With or without results (Celery's ignore_result: no task events). */
  @Param({"true", "false"})
  public boolean results;

  private InMemoryBroker broker;
  private Worker worker;
  private Message message;
  private final AtomicReference<CountDownLatch> done = new AtomicReference<>();

  @Setup(Level.Trial)
  public void start() {
    broker = new InMemoryBroker();
    TaskRegistry tasks =
        TaskRegistry.builder()
            .register(
                "noop",
                call -> {
                  CountDownLatch latch = done.get();
                  if (latch != null) {
                    latch.countDown();
                  }
                  return null;
                })
            .build();
    worker = new Worker(broker, tasks, WorkerSettings.of(List.of(QUEUE), 200));
    worker.start();
    message = TaskMessageCodec.encode(TaskMessage.builder("noop").ignoreResult(!results).build());
  }

  @TearDown(Level.Trial)
  public void stop() {
    worker.close();
    broker.close();
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void runBatchOfNoopTasks() throws InterruptedException {
    CountDownLatch latch = new CountDownLatch(BATCH);
    done.set(latch);
    for (int i = 0; i < BATCH; i++) {
      broker.publish(LovageTopology.TASK_EXCHANGE, QUEUE, message);
    }
    if (!latch.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("tasks did not run: " + latch.getCount() + " left");
    }
  }
}
