package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.TaskRecord;
import io.lovage.testing.LiveQueue;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The worker runtime, in this JVM, against a real RabbitMQ: queues, events stream and all. */
class WorkerIT {
  private final LiveQueue queue = new LiveQueue("worker");
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register("it.add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
          .register(
              "it.fail",
              call -> {
                throw new ArithmeticException("no");
              })
          .build();

  @AfterEach
  void stop() {
    queue.close();
  }

  @Test
  void hundredTasksAllSucceedWithTheirResultsReadBackFromTheEventStream() {
    queue.startWorker(tasks, 4);
    List<TaskMessage> sent = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      sent.add(queue.send(TaskMessage.builder("it.add").args(i, i).build()));
    }

    for (int i = 0; i < sent.size(); i++) {
      TaskRecord record = queue.awaitState(sent.get(i).id(), TaskState.SUCCESS);
      assertEquals(2L * i, record.result().asLong());
      assertEquals(queue.name, record.queue());
    }
  }

  @Test
  void failingTaskIsRecordedAsFailure() {
    queue.startWorker(tasks, 4);

    String id = queue.send(TaskMessage.builder("it.fail").build()).id();

    assertEquals("ArithmeticException", queue.awaitState(id, TaskState.FAILURE).error().type());
  }
}
