package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The worker runtime, in this JVM, against a real RabbitMQ: queues, events stream and all. */
class WorkerIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final String queue = RabbitFixture.uniqueQueue("worker");
  private final RabbitBroker broker = RabbitFixture.connect("WorkerIT");
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register("it.add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
          .register(
              "it.fail",
              call -> {
                throw new ArithmeticException("no");
              })
          .build();
  private final Worker worker = new Worker(broker, tasks, WorkerSettings.of(List.of(queue), 4));
  private final EventStreamResultStore results = new EventStreamResultStore(100_000);

  @AfterEach
  void stop() {
    worker.close();
    results.close();
    broker.close();
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void hundredTasksAllSucceedWithTheirResultsReadBackFromTheEventStream() {
    worker.start();
    results.follow(broker);
    TaskClient client = new TaskClient(broker, "WorkerIT");
    List<TaskMessage> sent = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      sent.add(client.send(TaskMessage.builder("it.add").args(i, i).build(), queue).join());
    }

    for (int i = 0; i < sent.size(); i++) {
      String id = sent.get(i).id();
      TaskRecord record =
          Await.until(
              WAIT,
              "task " + id + " succeeded",
              () -> results.find(id).filter(r -> r.state() == TaskState.SUCCESS));
      assertEquals(2L * i, record.result().asLong());
      assertEquals(queue, record.queue());
    }
  }

  @Test
  void failingTaskIsRecordedAsFailure() {
    worker.start();
    results.follow(broker);
    TaskClient client = new TaskClient(broker, "WorkerIT");

    String id = client.send(TaskMessage.builder("it.fail").build(), queue).join().id();

    TaskRecord record =
        Await.until(
            WAIT,
            "task failed",
            () -> results.find(id).filter(r -> r.state() == TaskState.FAILURE));
    assertEquals("ArithmeticException", record.error().type());
  }
}
