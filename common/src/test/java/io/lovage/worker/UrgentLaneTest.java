package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A task in a queue's urgent lane (RabbitMQ 3.x quorum queues, here the in-memory broker answering
 * 3.10) is run as one of the queue: nothing about it is lost or sent elsewhere.
 */
class UrgentLaneTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String QUEUE = "celery";
  private static final String LANE = LovageTopology.urgentLane(QUEUE);

  private final InMemoryBroker broker = new InMemoryBroker("3.10.8");
  private final List<Integer> runs = new CopyOnWriteArrayList<>();
  private final Worker worker =
      new Worker(
          broker,
          TaskRegistry.builder()
              .register(
                  "retried.once",
                  call -> {
                    runs.add(call.retries());
                    if (call.retries() == 0) {
                      throw call.retry(new IllegalStateException("again"), Duration.ZERO);
                    }
                    return null;
                  })
              .build(),
          WorkerSettings.of(List.of(QUEUE), 3));
  private final TaskClient client =
      new TaskClient(broker, "test", QueueType.QUORUM, Clock.systemUTC());

  @AfterEach
  void stop() {
    worker.close();
    broker.close();
  }

  @Test
  void aQueueWithALaneKeepsItsWholePrefetchAndTheLaneHasAsMuchOnTop() {
    worker.start();

    assertEquals(
        worker.settings().capacity(),
        worker.prefetch(QUEUE),
        "the whole capacity, as without a lane");
    for (int i = 0; i < 3; i++) {
      client.send(TaskMessage.builder("retried.once").build(), QUEUE).join();
    }
    Await.until(WAIT, "the three tasks and their retries", () -> runs.size() == 6);
  }

  @Test
  void anUrgentTaskWaitsInTheLaneAndRunsAgainWhenItRetries() {
    client.send(TaskMessage.builder("retried.once").priority(9).build(), QUEUE).join();
    assertEquals(List.of(1, 0), List.of(broker.ready(LANE), broker.ready(QUEUE)));

    worker.start();

    Await.until(WAIT, "a first run and its retry", () -> runs.equals(List.of(0, 1)));
  }

  @Test
  void anUrgentTaskNoWorkerKnowsIsDeadLetteredAsOneOfItsQueue() {
    worker.start();
    client.send(TaskMessage.builder("no.such.task").priority(9).build(), QUEUE).join();

    Message dead =
        Await.until(
            WAIT,
            "a dead letter of " + QUEUE,
            () -> broker.messages(LovageTopology.deadLetterQueue(QUEUE)).stream().findFirst());

    assertEquals(QUEUE, dead.headers().get("x-lovage-original-queue"));
    Await.until(WAIT, "the lane's delivery acknowledged", () -> broker.unacked(LANE) == 0);
  }
}
