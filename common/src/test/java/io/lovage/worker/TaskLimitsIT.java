package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.RateLimit;
import io.lovage.TaskRegistry;
import io.lovage.limits.LimitBook;
import io.lovage.limits.TaskLimits;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
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
}
