package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Revocation on a real RabbitMQ: skipped before it starts, interrupted with terminate. */
class RevocationIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final LiveQueue queue = new LiveQueue("revoke");
  private final Set<String> ran = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean interrupted = new AtomicBoolean();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register(
              "it.mark",
              call -> {
                ran.add(call.arg(0, "label", String.class));
                return null;
              })
          .register(
              "it.long",
              call -> {
                try {
                  Thread.sleep(15_000);
                  return "finished";
                } catch (InterruptedException e) {
                  interrupted.set(true);
                  throw e;
                }
              })
          .build();
  private Worker worker;

  @AfterEach
  void stop() {
    queue.close();
  }

  @Test
  void revokedCountdownTaskNeverRuns() {
    startWorker();
    Instant eta = Instant.now().plusSeconds(2);
    TaskMessage revoked =
        queue
            .client
            .send(TaskMessage.builder("it.mark").args("revoked").eta(eta).build(), queue.name)
            .join();
    queue.client.revoke(revoked.id(), false).join();
    // Same eta, sent after it: when this one has run, the revoked one has been passed over.
    TaskMessage after =
        queue
            .client
            .send(TaskMessage.builder("it.mark").args("after").eta(eta).build(), queue.name)
            .join();

    awaitState(after.id(), TaskState.SUCCESS);

    assertEquals(Set.of("after"), ran);
    assertEquals(TaskState.REVOKED, queue.results.find(revoked.id()).orElseThrow().state());
  }

  @Test
  void revokedTaskNeverRunsOnAWorkerThatStartsAfterTheRevocation() {
    TaskMessage revoked =
        queue
            .client
            .send(TaskMessage.builder("it.mark").args("revoked").build(), queue.name)
            .join();
    queue.client.revoke(revoked.id(), false).join();
    TaskMessage after =
        queue.client.send(TaskMessage.builder("it.mark").args("after").build(), queue.name).join();

    startWorker();

    awaitState(after.id(), TaskState.SUCCESS);
    assertEquals(Set.of("after"), ran);
  }

  @Test
  void revokeWithTerminateInterruptsTheRunningTask() {
    startWorker();
    TaskMessage running =
        queue.client.send(TaskMessage.builder("it.long").build(), queue.name).join();
    awaitState(running.id(), TaskState.STARTED);

    queue.client.revoke(running.id(), true).join();

    Await.until(WAIT, "the task to be interrupted", interrupted::get);
    TaskRecord record = awaitState(running.id(), TaskState.REVOKED);
    assertTrue(record.error().message().contains("terminated"), record.toString());
    Await.until(WAIT, "the delivery to be settled", () -> worker.stats().active() == 0);
  }

  private void startWorker() {
    worker = queue.startWorker(tasks, 4);
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return queue.awaitState(id, state);
  }
}
