package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.ConcurrencyLimit;
import io.lovage.RateLimit;
import io.lovage.TaskRegistry;
import io.lovage.limits.LimitBook;
import io.lovage.limits.TaskLimits;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
import io.lovage.testing.RabbitFixture;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Fleet-wide limits on the real broker: a limit put in the book ({@code lovage.limits}) reaches a
 * running worker and holds its task; deleting it lifts the hold.
 */
class TaskLimitsIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final LiveQueue queue = new LiveQueue("tasklimits");
  private final LimitBook book = new LimitBook(queue.broker, Clock.systemUTC()).follow();

  /** Its own name: the book is shared by everything on this broker. */
  private final String task = "limited-" + UUID.randomUUID();

  private final AtomicInteger runs = new AtomicInteger();

  @AfterEach
  void stop() {
    book.delete(task).join();
    book.close();
    queue.close();
  }

  @Test
  void aLimitPutInTheBookHoldsTheTaskOnARunningWorkerAndItsDeletionLiftsIt() {
    Worker worker =
        queue.startWorker(
            TaskRegistry.builder().register(task, call -> runs.incrementAndGet()).build(), 2);

    book.put(TaskLimits.of(task).withRate(RateLimit.parse("1/m"))).join();
    Await.until(
        WAIT,
        "the limit on the worker",
        () -> worker.rateLimiter().limitOf(task).equals(RateLimit.parse("1/m")));
    for (int i = 0; i < 4; i++) {
      queue.send(TaskMessage.builder(task).ignoreResult(true).build());
    }

    Await.until(
        WAIT, "one run, three held", () -> runs.get() == 1 && worker.stats().rateLimited() == 3);

    book.delete(task).join();

    Await.until(WAIT, "the held ones to run", () -> runs.get() == 4);
    assertEquals(RateLimit.NONE, worker.rateLimiter().limitOf(task));
  }

  @Test
  void aWorkerStartedAfterALimitWasPutStartsWithIt() {
    book.put(TaskLimits.of(task).withRate(RateLimit.parse("1/h"))).join();

    Worker worker =
        queue.startWorker(
            TaskRegistry.builder().register(task, call -> runs.incrementAndGet()).build(), 2);

    assertEquals(RateLimit.parse("1/h"), worker.rateLimiter().limitOf(task));
  }

  @Test
  void aConcurrencyLimitPutInTheBookHoldsTheTaskAndTheTasksWaitingMoveToANewOne() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    Worker worker =
        queue.startWorker(
            TaskRegistry.builder()
                .register(
                    task,
                    call -> {
                      most.accumulateAndGet(running.incrementAndGet(), Math::max);
                      release.await();
                      running.decrementAndGet();
                      return runs.incrementAndGet();
                    })
                .build(),
            8);
    try {
      book.put(TaskLimits.of(task).withConcurrency(ConcurrencyLimit.of(1))).join();
      Await.until(
          WAIT,
          "the limit on the worker",
          () -> worker.concurrencyLimiter().limitOf(task).equals(ConcurrencyLimit.of(1)));
      for (int i = 0; i < 4; i++) {
        queue.send(TaskMessage.builder(task).ignoreResult(true).build());
      }
      Await.until(
          WAIT,
          "one running, three waiting",
          () -> running.get() == 1 && worker.stats().concurrencyLimited() == 3);

      book.put(TaskLimits.of(task).withConcurrency(ConcurrencyLimit.of(3))).join();

      Await.until(WAIT, "three more under the new limit of 3", () -> running.get() == 4);
      assertEquals(0, worker.stats().concurrencyLimited());
    } finally {
      release.countDown();
    }
    Await.until(WAIT, "all four ran", () -> runs.get() == 4);
    assertEquals(4, most.get(), "the old limit's task and the new limit's three");
    RabbitFixture.deleteQueues(
        Permits.queue(task, 1, null),
        Permits.queue(task, 1, null) + Permits.MARKER_SUFFIX,
        Permits.queue(task, 3, null),
        Permits.queue(task, 3, null) + Permits.MARKER_SUFFIX);
  }
}
