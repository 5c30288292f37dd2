package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.Signature;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Celery's link and link_error on a real RabbitMQ: each fires once, for its outcome. */
class CallbacksIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final LiveQueue queue = new LiveQueue("links");
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register("it.add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
          .register(
              "it.fail",
              call -> {
                throw new IllegalStateException("no");
              })
          .register(
              "it.record",
              call -> {
                calls.add(
                    call.name() + call.message().args() + " parent=" + call.message().parentId());
                return null;
              })
          .build();

  CallbacksIT() {
    queue.startWorker(tasks, 4);
  }

  @AfterEach
  void stop() {
    queue.close();
  }

  @Test
  void linkRunsOnceWithTheResultAndLinkErrorDoesNotRun() {
    TaskMessage parent =
        queue
            .client
            .send(
                TaskMessage.builder("it.add")
                    .args(2, 3)
                    .link(Signature.of("it.record", "extra"))
                    .linkError(Signature.of("it.record", "error"))
                    .build(),
                queue.name)
            .join();
    awaitState(parent.id(), TaskState.SUCCESS);

    Await.until(WAIT, "the callback", () -> !calls.isEmpty());
    // A marker after the callback: once it ran, no second callback can be pending before it.
    awaitState(
        queue.client.send(TaskMessage.builder("it.add").args(0, 0).build(), queue.name).join().id(),
        TaskState.SUCCESS);
    assertEquals(List.of("it.record[5,\"extra\"] parent=" + parent.id()), calls);
  }

  @Test
  void linkErrorRunsOnceWithTheTaskIdAndLinkDoesNotRun() {
    TaskMessage parent =
        queue
            .client
            .send(
                TaskMessage.builder("it.fail")
                    .link(Signature.of("it.record", "ok"))
                    .linkError(Signature.of("it.record", "failed").asImmutable())
                    .linkError(Signature.of("it.record"))
                    .build(),
                queue.name)
            .join();
    awaitState(parent.id(), TaskState.FAILURE);

    Await.until(WAIT, "both errbacks", () -> calls.size() >= 2);
    awaitState(
        queue.client.send(TaskMessage.builder("it.add").args(0, 0).build(), queue.name).join().id(),
        TaskState.SUCCESS);
    assertEquals(
        java.util.Set.of(
            "it.record[\"failed\"] parent=" + parent.id(),
            "it.record[\"" + parent.id() + "\"] parent=" + parent.id()),
        java.util.Set.copyOf(calls));
    assertEquals(2, calls.size());
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return queue.awaitState(id, state);
  }
}
