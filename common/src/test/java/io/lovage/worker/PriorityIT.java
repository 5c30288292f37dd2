package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Priorities: on a classic queue 0–9, a waiting higher-priority task runs before earlier ones; on a
 * quorum queue RabbitMQ 4.0–4.2 has two levels (5–9 high, 0–4 normal; 4.3 has more), and on 3.x,
 * whose quorum queues have none, Lovage sends 5–9 to the queue's urgent lane.
 */
class PriorityIT {
  private static final int BACKLOG = 10_000;

  private final String queue = RabbitFixture.uniqueQueue("priority");
  private final RabbitBroker broker = RabbitFixture.connect("PriorityIT");
  private final TaskClient client =
      new TaskClient(broker, "PriorityIT", QueueType.CLASSIC, Clock.systemUTC());
  private final List<String> order = new CopyOnWriteArrayList<>();
  private Worker worker;

  @AfterEach
  void stop() {
    if (worker != null) {
      worker.close();
    }
    client.close();
    broker.close();
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void higherPriorityTaskWaitingInAClassicQueueRunsFirst() {
    sendThreeLowThenOneUrgent(client);

    runAllFour(QueueType.CLASSIC);

    assertEquals("urgent", order.get(0), order.toString());
  }

  @Test
  void aHighPriorityTaskWaitingInAQuorumQueueRunsFirstOnRabbitMq4AndThroughItsUrgentLaneOn3() {
    try (TaskClient quorum =
        new TaskClient(broker, "PriorityIT", QueueType.QUORUM, Clock.systemUTC())) {
      sendThreeLowThenOneUrgent(quorum);
    }

    runAllFour(QueueType.QUORUM);

    assertEquals("urgent", order.get(0), order.toString());
  }

  @Test
  void aPriority9TaskBehind10000QueuedPriority0OnesStartsWithinASecondOnAClassicQueue() {
    urgentTaskStartsWithinASecondBehindABacklogAndTheBacklogGoesOn(QueueType.CLASSIC);
  }

  /** On RabbitMQ 4.x through the quorum queue's high level, on 3.x through its urgent lane. */
  @Test
  void aPriority9TaskBehind10000QueuedPriority0OnesStartsWithinASecondOnAQuorumQueue() {
    urgentTaskStartsWithinASecondBehindABacklogAndTheBacklogGoesOn(QueueType.QUORUM);
  }

  private void urgentTaskStartsWithinASecondBehindABacklogAndTheBacklogGoesOn(QueueType type) {
    AtomicInteger lowRun = new AtomicInteger();
    AtomicLong urgentStarted = new AtomicLong();
    AtomicInteger lowRunBeforeUrgent = new AtomicInteger();
    try (TaskClient sender = new TaskClient(broker, "PriorityIT", type, Clock.systemUTC())) {
      List<CompletableFuture<TaskMessage>> backlog = new ArrayList<>();
      for (int i = 0; i < BACKLOG; i++) {
        TaskMessage low = TaskMessage.builder("it.low").priority(0).ignoreResult(true).build();
        backlog.add(sender.send(low, queue));
      }
      CompletableFuture.allOf(backlog.toArray(CompletableFuture[]::new)).join();
      // Each low task takes 2 ms, 4 at once: the backlog alone would keep the worker 5 s busy.
      start(
          TaskRegistry.builder()
              .register(
                  "it.low",
                  call -> {
                    Thread.sleep(2);
                    return lowRun.incrementAndGet();
                  })
              .register(
                  "it.urgent",
                  call -> {
                    urgentStarted.set(System.nanoTime());
                    lowRunBeforeUrgent.set(lowRun.get());
                    return null;
                  })
              .build(),
          type,
          4,
          0);
      Await.until(
          Duration.ofSeconds(20), "the worker busy with the backlog", () -> lowRun.get() > 100);

      long sent = System.nanoTime();
      sender
          .send(TaskMessage.builder("it.urgent").priority(9).ignoreResult(true).build(), queue)
          .join();
      Await.until(Duration.ofSeconds(20), "the urgent task started", () -> urgentStarted.get() > 0);

      double millis = (urgentStarted.get() - sent) / 1e6;
      System.out.printf(
          "PriorityIT %s queue on RabbitMQ %s: priority 9 started %.1f ms after its send, %,d of"
              + " %,d priority-0 tasks run by then%n",
          type, broker.version(), millis, lowRunBeforeUrgent.get(), BACKLOG);
      assertTrue(millis < 1000, "started " + millis + " ms after its send");
      assertTrue(
          lowRunBeforeUrgent.get() < BACKLOG / 2,
          lowRunBeforeUrgent.get() + " low ones ran first: not ahead of the backlog");
      int after = lowRun.get();
      Await.until(
          Duration.ofSeconds(10), "low ones still progress", () -> lowRun.get() > after + 100);
    }
  }

  private void sendThreeLowThenOneUrgent(TaskClient sender) {
    for (String label : List.of("low-1", "low-2", "low-3")) {
      sender.send(TaskMessage.builder("it.mark").args(label).priority(0).build(), queue).join();
    }
    sender.send(TaskMessage.builder("it.mark").args("urgent").priority(9).build(), queue).join();
  }

  /** One task at a time, one prefetched from each queue (and lane): the order shows priority. */
  private void runAllFour(QueueType type) {
    start(
        TaskRegistry.builder()
            .register("it.mark", call -> order.add(call.arg(0, "label", String.class)))
            .build(),
        type,
        1,
        1);

    Await.until(Duration.ofSeconds(20), "all four tasks", () -> order.size() == 4);
  }

  private void start(TaskRegistry tasks, QueueType type, int ioConcurrency, int prefetch) {
    worker =
        new Worker(
            broker,
            tasks,
            new WorkerSettings(
                "priority-worker",
                List.of(new WorkerSettings.WeightedQueue(queue, 1)),
                ioConcurrency,
                1,
                Duration.ofSeconds(5),
                type,
                prefetch,
                WorkerSettings.DEFAULT_RESULT_MAX_BYTES));
    worker.start();
  }
}
