package io.lovage.unique;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.Unique;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Unique tasks on a real RabbitMQ: two clients on two connections race for one key. */
class UniqueTasksIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final String queue = RabbitFixture.uniqueQueue("unique");
  private final String key = "it-" + UUID.randomUUID();
  private final RabbitBroker first = RabbitFixture.connect("UniqueTasksIT first");
  private final RabbitBroker second = RabbitFixture.connect("UniqueTasksIT second");
  private final TaskClient one = new TaskClient(first, "UniqueTasksIT first");
  private final TaskClient other = new TaskClient(second, "UniqueTasksIT second");
  private final AtomicInteger runs = new AtomicInteger();
  private final TaskRegistry tasks =
      TaskRegistry.builder().register("it.unique", call -> runs.incrementAndGet()).build();
  private final List<String> locks = new ArrayList<>();
  private Worker worker;

  @AfterEach
  void cleanUp() {
    if (worker != null) {
      worker.close();
    }
    one.close();
    other.close();
    first.close();
    second.close();
    RabbitFixture.deleteTaskQueue(queue);
    for (String lock : locks) {
      RabbitFixture.deleteQueues(UniqueLocks.lockQueue(lock), UniqueLocks.idQueue(lock));
    }
  }

  private TaskMessage task() {
    return TaskMessage.builder("it.unique").args(7).build();
  }

  private Unique unique(Duration uniqueFor) {
    Unique unique = Unique.key(key).lasting(uniqueFor);
    locks.add(unique.lockFor(task()));
    return unique;
  }

  @Test
  void hundredConcurrentSubmitsThroughTwoClientsSendOneTaskAndAllGetItsId() throws Exception {
    Unique unique = unique(Duration.ofMinutes(5));
    List<Future<Unique.Sent>> answers = new ArrayList<>();
    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 100; i++) {
        TaskClient client = i % 2 == 0 ? one : other;
        answers.add(threads.submit(() -> client.send(task(), queue, unique).join()));
      }
    }
    List<Unique.Sent> sent = new ArrayList<>();
    for (Future<Unique.Sent> answer : answers) {
      sent.add(answer.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    }

    Set<String> ids = sent.stream().map(Unique.Sent::id).collect(Collectors.toSet());
    assertEquals(1, ids.size(), "every submit names the same task: " + ids);
    assertEquals(1, sent.stream().filter(s -> !s.replayed()).count());
    assertEquals(1, RabbitFixture.messagesReady(queue), "one task message was sent");

    worker = new Worker(first, tasks, WorkerSettings.of(List.of(queue), 2));
    worker.start();
    Await.until(WAIT, "the one task to run", () -> runs.get() == 1);
  }

  @Test
  void onceTheTaskFinishedAnEqualSubmitSendsANewTask() {
    Unique unique = unique(Duration.ofMinutes(5));
    Unique.Sent firstSent = one.send(task(), queue, unique).join();
    assertEquals(firstSent.id(), other.send(task(), queue, unique).join().id());

    worker = new Worker(first, tasks, WorkerSettings.of(List.of(queue), 2));
    worker.start();
    Await.until(WAIT, "the first task to run", () -> runs.get() == 1);
    Unique.Sent next =
        Await.until(
            WAIT,
            "the lock to be released",
            () -> {
              Unique.Sent s = other.send(task(), queue, unique).join();
              return s.replayed() ? Optional.empty() : Optional.of(s);
            });

    assertNotEquals(firstSent.id(), next.id());
    Await.until(WAIT, "the second task to run", () -> runs.get() == 2);
  }

  @Test
  void aClaimNobodyReleasesEndsAfterUniqueFor() {
    Unique unique = unique(Duration.ofSeconds(2));
    long start = System.nanoTime();
    Unique.Sent firstSent = one.send(task(), queue, unique).join();
    assertFalse(firstSent.replayed());
    assertTrue(other.send(task(), queue, unique).join().replayed());

    Unique.Sent next =
        Await.until(
            WAIT,
            "the claim to expire",
            () -> {
              Unique.Sent s = other.send(task(), queue, unique).join();
              return s.replayed() ? Optional.empty() : Optional.of(s);
            });

    assertNotEquals(firstSent.id(), next.id());
    assertTrue(
        Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofMillis(1900)) > 0,
        "not before uniqueFor");
    assertEquals(2, RabbitFixture.messagesReady(queue));
  }

  @Test
  void releasingALockWhoseQueuesExpiredLeavesWhatElseWasTakenOnTheChannelHeld() {
    Unique unique = unique(Duration.ofMinutes(5));
    String lock = unique.lockFor(task());
    UniqueLocks locks = new UniqueLocks(first);
    String id = one.send(task(), queue, unique).join().id();
    // Something else this connection holds, taken with basic.get (a concurrency permit, say).
    String permits = queue + ".permits";
    first.declare(io.lovage.broker.LovageTopology.taskQueue(permits));
    first
        .publish("", permits, io.lovage.broker.Message.json(new byte[] {'1'}, java.util.Map.of()))
        .join();
    io.lovage.broker.Delivery held =
        Await.until(WAIT, "the permit-like message", () -> first.get(permits));
    RabbitFixture.deleteQueues(UniqueLocks.lockQueue(lock), UniqueLocks.idQueue(lock)); // expired

    locks.release(lock, id, unique.uniqueFor());

    assertTrue(held.held(), "a read of the expired lock must not close the channel it came on");
    held.ack();
    RabbitFixture.deleteTaskQueue(permits);
  }
}
