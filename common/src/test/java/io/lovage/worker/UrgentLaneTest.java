package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A task from a queue's urgent lane (RabbitMQ 3.x quorum queues, on the in-memory broker that
 * answers 3.10) counts as one from the queue: nothing about it is lost or sent elsewhere.
 */
class UrgentLaneTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String QUEUE = "celery";
  private static final String LANE = LovageTopology.urgentLane(QUEUE);

  private final InMemoryBroker broker = new InMemoryBroker("3.10.8");
  private final Worker worker =
      new Worker(
          broker,
          TaskRegistry.builder()
              .register(
                  "self-retrying",
                  call -> {
                    if (call.retries() == 0) {
                      throw call.retry(new IllegalStateException("not yet"), Duration.ZERO);
                    }
                    return call.retries();
                  })
              .build(),
          WorkerSettings.of(List.of(QUEUE), 3));
  private final TaskClient client =
      new TaskClient(broker, "test", QueueType.QUORUM, Clock.systemUTC());
  private final EventStreamResultStore results = new EventStreamResultStore(100);

  UrgentLaneTest() {
    worker.start();
    results.follow(broker);
  }

  @AfterEach
  void stop() {
    worker.close();
    broker.close();
  }

  @Test
  void theLaneGetsTwiceItsQueuesShareOfThePrefetch() {
    WorkerSettings settings = worker.settings();
    WorkerSettings.WeightedQueue queue = settings.queues().getFirst();
    List<WorkerSettings.WeightedQueue> consumed = List.of(queue, queue.urgentLane(LANE));

    assertEquals(
        2 * settings.prefetch(queue, consumed),
        settings.prefetch(queue.urgentLane(LANE), consumed));
  }

  @Test
  void anUrgentTaskRetriedRunsAgainFromTheLaneAndReportsItsQueue() {
    TaskMessage sent =
        client.send(TaskMessage.builder("self-retrying").priority(9).build(), QUEUE).join();

    TaskRecord record = awaitState(sent.id(), TaskState.SUCCESS);

    assertEquals(1, record.result().asInt());
    assertEquals(QUEUE, record.queue());
  }

  @Test
  void anUrgentTaskNoWorkerKnowsIsDeadLetteredAsOneOfItsQueue() {
    client.send(TaskMessage.builder("no.such.task").priority(9).build(), QUEUE).join();

    Message dead =
        Await.until(
            WAIT,
            "a dead letter of " + QUEUE,
            () -> broker.messages(LovageTopology.deadLetterQueue(QUEUE)).stream().findFirst());

    assertEquals(QUEUE, dead.headers().get("x-lovage-original-queue"));
    Await.until(WAIT, "the lane's delivery acknowledged", () -> broker.unacked(LANE) == 0);
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in state " + state,
        () -> results.find(id).filter(r -> r.state() == state));
  }
}
