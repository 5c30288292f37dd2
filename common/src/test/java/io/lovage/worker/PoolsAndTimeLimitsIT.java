package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskKind;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.TimeLimits;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The worker's pools and time limits on a real RabbitMQ: the threads-for-IO, cores-for-CPU lesson,
 * as tests.
 */
class PoolsAndTimeLimitsIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final int CPU = 2;

  private final AtomicInteger ioRunning = new AtomicInteger();
  private final AtomicInteger ioPeak = new AtomicInteger();
  private final AtomicInteger cpuRunning = new AtomicInteger();
  private final AtomicInteger cpuPeak = new AtomicInteger();
  private final Map<String, Instant> finished = new ConcurrentHashMap<>();
  private final java.util.concurrent.CountDownLatch gate =
      new java.util.concurrent.CountDownLatch(200);
  private final String queue = RabbitFixture.uniqueQueue("pools");
  private final RabbitBroker broker = RabbitFixture.connect("PoolsAndTimeLimitsIT");
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register(
              "io.sleep",
              call -> {
                track(ioRunning, ioPeak);
                try {
                  Thread.sleep(Math.round(call.arg(0, "seconds", double.class) * 1000));
                } finally {
                  ioRunning.decrementAndGet();
                  finished.put(call.id(), Instant.now());
                }
                return null;
              })
          .register(
              "io.gate",
              call -> {
                track(ioRunning, ioPeak);
                gate.countDown();
                try {
                  // Returns once 200 of these run at the same time (or after 20 s if they cannot).
                  return gate.await(20, java.util.concurrent.TimeUnit.SECONDS);
                } finally {
                  ioRunning.decrementAndGet();
                }
              })
          .register(
              "cpu.busy",
              call -> {
                track(cpuRunning, cpuPeak);
                try {
                  long until =
                      System.nanoTime() + Math.round(call.arg(0, "seconds", double.class) * 1e9);
                  while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                  }
                } finally {
                  cpuRunning.decrementAndGet();
                  finished.put(call.id(), Instant.now());
                }
                return null;
              },
              TaskOptions.DEFAULT.withKind(TaskKind.CPU))
          .register(
              "polite",
              call -> {
                Thread.sleep(10_000);
                return "never";
              },
              TaskOptions.DEFAULT.withTimeLimits(
                  TimeLimits.of(Duration.ofMillis(200), Duration.ofSeconds(5))))
          .register(
              "stubborn",
              call -> {
                long until = System.nanoTime() + 10_000_000_000L;
                while (System.nanoTime() < until) {
                  Thread.onSpinWait(); // ignores interruption
                }
                return "never";
              },
              TaskOptions.DEFAULT.withKind(TaskKind.CPU))
          .register(
              "reporting",
              call -> {
                for (int i = 1; i <= 3; i++) {
                  call.progress(i, 3);
                }
                return "done";
              })
          .build();
  private final Worker worker =
      new Worker(
          broker,
          tasks,
          new WorkerSettings(
              "test-worker",
              List.of(new WorkerSettings.WeightedQueue(queue, 1)),
              400,
              CPU,
              Duration.ofSeconds(5),
              QueueType.QUORUM,
              0,
              WorkerSettings.DEFAULT_RESULT_MAX_BYTES));
  private final TaskClient client =
      new TaskClient(broker, "test", QueueType.QUORUM, Clock.systemUTC());
  // Only this test's events: a day of a shared broker's event stream takes longer to replay than
  // the test waits.
  private final EventStreamResultStore results =
      new EventStreamResultStore(10_000, Duration.ofMinutes(5), Clock.systemUTC());

  PoolsAndTimeLimitsIT() {
    worker.start();
    results.follow(broker);
  }

  @AfterEach
  void stop() {
    worker.close();
    results.close();
    broker.close();
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void ioTasksRunHundredsAtOnceOnVirtualThreads() {
    List<String> ids = send(400, "io.gate");

    ids.forEach(id -> awaitState(id, TaskState.SUCCESS));

    assertTrue(ioPeak.get() >= 200, "only " + ioPeak.get() + " IO tasks ran at once");
    assertTrue(
        ids.stream().allMatch(id -> results.find(id).orElseThrow().result().asBoolean()),
        "some tasks never saw 200 running at once");
  }

  @Test
  void cpuTasksNeverRunMoreAtOnceThanTheCpuPool() {
    List<String> ids = send(8, "cpu.busy", 0.2);

    ids.forEach(id -> awaitState(id, TaskState.SUCCESS));

    assertEquals(CPU, cpuPeak.get(), "CPU tasks at once");
  }

  @Test
  void cpuTasksDoNotStarveIoTasks() {
    List<String> cpu = send(6, "cpu.busy", 1.0);
    List<String> io = send(20, "io.sleep", 0.05);

    io.forEach(id -> awaitState(id, TaskState.SUCCESS));
    cpu.forEach(id -> awaitState(id, TaskState.SUCCESS));

    Instant lastIo = io.stream().map(finished::get).max(Instant::compareTo).orElseThrow();
    Instant lastCpu = cpu.stream().map(finished::get).max(Instant::compareTo).orElseThrow();
    assertTrue(lastIo.isBefore(lastCpu), "IO tasks waited behind CPU tasks");
  }

  @Test
  void softTimeLimitInterruptsTheTaskWhichFailsWithSoftTimeLimitExceeded() {
    String id = send(1, "polite").get(0);

    TaskRecord record = awaitState(id, TaskState.FAILURE);

    assertEquals("SoftTimeLimitExceeded", record.error().type());
  }

  @Test
  void hardTimeLimitFromTheMessageEndsATaskThatIgnoresInterruptionAndFreesItsSlot() {
    TaskMessage stubborn =
        TaskMessage.builder("stubborn").timeLimit(new TaskMessage.TimeLimit(null, 0.5)).build();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < CPU; i++) {
      ids.add(
          client
              .send(TaskMessage.builder("stubborn").timeLimit(stubborn.timeLimit()).build(), queue)
              .join()
              .id());
    }

    for (String id : ids) {
      assertEquals("TimeLimitExceeded", awaitState(id, TaskState.FAILURE).error().type());
    }
    // Both CPU slots went to abandoned threads; new threads take them over.
    String next = send(1, "cpu.busy", 0.01).get(0);
    awaitState(next, TaskState.SUCCESS);
  }

  @Test
  void progressReportedByATaskIsInItsRecord() {
    String id = send(1, "reporting").get(0);

    TaskRecord record = awaitState(id, TaskState.SUCCESS);

    assertEquals(3, record.progress().get("done").asInt());
    assertEquals(3, record.progress().get("total").asInt());
  }

  private List<String> send(int count, String task, Object... args) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(client.send(TaskMessage.builder(task).args(args).build(), queue).join().id());
    }
    return ids;
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in " + state,
        () -> results.find(id).filter(r -> r.state() == state));
  }

  private static void track(AtomicInteger running, AtomicInteger peak) {
    int now = running.incrementAndGet();
    peak.accumulateAndGet(now, Math::max);
  }
}
