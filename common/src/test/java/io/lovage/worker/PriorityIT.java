package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Priorities: on a classic queue 0–9, a waiting higher-priority task runs before earlier ones; on a
 * quorum queue RabbitMQ 4.0–4.2 has two levels (5–9 high, 0–4 normal; 4.3 has more) and 3.x none.
 */
class PriorityIT {
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
  void aHighPriorityTaskInAQuorumQueueRunsFirstOnRabbitMq4AndInArrivalOrderOn3() {
    try (TaskClient quorum =
        new TaskClient(broker, "PriorityIT", QueueType.QUORUM, Clock.systemUTC())) {
      sendThreeLowThenOneUrgent(quorum);
    }

    runAllFour(QueueType.QUORUM);

    if (RabbitFixture.brokerMajorVersion() >= 4) {
      assertEquals("urgent", order.get(0), order.toString());
    } else {
      assertEquals(List.of("low-1", "low-2", "low-3", "urgent"), order);
    }
  }

  private void sendThreeLowThenOneUrgent(TaskClient sender) {
    for (String label : List.of("low-1", "low-2", "low-3")) {
      sender.send(TaskMessage.builder("it.mark").args(label).priority(0).build(), queue).join();
    }
    sender.send(TaskMessage.builder("it.mark").args("urgent").priority(9).build(), queue).join();
  }

  private void runAllFour(QueueType type) {
    worker =
        new Worker(
            broker,
            TaskRegistry.builder()
                .register("it.mark", call -> order.add(call.arg(0, "label", String.class)))
                .build(),
            new WorkerSettings(
                "priority-worker",
                List.of(new WorkerSettings.WeightedQueue(queue, 1)),
                1,
                1,
                Duration.ofSeconds(5),
                type,
                1,
                WorkerSettings.DEFAULT_RESULT_MAX_BYTES));
    worker.start();

    Await.until(Duration.ofSeconds(20), "all four tasks", () -> order.size() == 4);
  }
}
