package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Revocation on a real RabbitMQ: skipped before it starts, interrupted with terminate. */
class RevocationIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final String queue = RabbitFixture.uniqueQueue("revoke");
  private final RabbitBroker broker = RabbitFixture.connect("RevocationIT");
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
  private final TaskClient client = new TaskClient(broker, "RevocationIT");
  private final EventStreamResultStore results = new EventStreamResultStore(100_000);
  private Worker worker;

  RevocationIT() {
    results.follow(broker);
  }

  @AfterEach
  void stop() {
    if (worker != null) {
      worker.close();
    }
    results.close();
    broker.close();
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void revokedCountdownTaskNeverRuns() {
    startWorker();
    Instant eta = Instant.now().plusSeconds(2);
    TaskMessage revoked =
        client.send(TaskMessage.builder("it.mark").args("revoked").eta(eta).build(), queue).join();
    client.revoke(revoked.id(), false).join();
    // Same eta, sent after it: when this one has run, the revoked one has been passed over.
    TaskMessage after =
        client.send(TaskMessage.builder("it.mark").args("after").eta(eta).build(), queue).join();

    awaitState(after.id(), TaskState.SUCCESS);

    assertEquals(Set.of("after"), ran);
    assertEquals(TaskState.REVOKED, results.find(revoked.id()).orElseThrow().state());
  }

  @Test
  void revokedTaskNeverRunsOnAWorkerThatStartsAfterTheRevocation() {
    TaskMessage revoked =
        client.send(TaskMessage.builder("it.mark").args("revoked").build(), queue).join();
    client.revoke(revoked.id(), false).join();
    TaskMessage after =
        client.send(TaskMessage.builder("it.mark").args("after").build(), queue).join();

    startWorker();

    awaitState(after.id(), TaskState.SUCCESS);
    assertEquals(Set.of("after"), ran);
  }

  @Test
  void revokeWithTerminateInterruptsTheRunningTask() {
    startWorker();
    TaskMessage running = client.send(TaskMessage.builder("it.long").build(), queue).join();
    awaitState(running.id(), TaskState.STARTED);

    client.revoke(running.id(), true).join();

    Await.until(WAIT, "the task to be interrupted", interrupted::get);
    TaskRecord record = awaitState(running.id(), TaskState.REVOKED);
    assertTrue(record.error().message().contains("terminated"), record.toString());
    Await.until(WAIT, "the delivery to be settled", () -> worker.stats().active() == 0);
  }

  private void startWorker() {
    worker = new Worker(broker, tasks, WorkerSettings.of(List.of(queue), 4));
    worker.start();
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in " + state,
        () -> results.find(id).filter(r -> r.state() == state));
  }
}
