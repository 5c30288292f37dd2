package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.RateLimit;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.lovage.broker.InMemoryBroker;
import io.lovage.limits.LimitBook;
import io.lovage.limits.TaskLimits;
import io.lovage.testing.Await;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A worker follows the fleet-wide limits in the book, in place of its tasks' own. */
class WorkerLimitsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final InMemoryBroker broker = new InMemoryBroker();
  private final LimitBook book = new LimitBook(broker, Clock.systemUTC()).follow();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register(
              "registered", call -> null, TaskOptions.DEFAULT.withRateLimit(RateLimit.parse("5/s")))
          .register("configured", call -> null)
          .register("free", call -> null)
          .build();
  private final Worker worker =
      new Worker(
          broker,
          tasks,
          WorkerSettings.of(List.of("limits"), 2)
              .withRateLimits(java.util.Map.of("configured", RateLimit.parse("7/m"))));

  @AfterEach
  void stop() {
    worker.close();
    book.close();
    broker.close();
  }

  @Test
  void aLimitInTheBookBeforeTheWorkerStartsAppliesFromItsStart() {
    book.put(TaskLimits.of("registered").withRate(RateLimit.parse("1/h"))).join();

    worker.start();

    assertEquals(RateLimit.parse("1/h"), worker.rateLimiter().limitOf("registered"));
    assertEquals(RateLimit.parse("7/m"), worker.rateLimiter().limitOf("configured"));
  }

  @Test
  void aLimitPutLaterReplacesTheTasksOwnAndItsDeletionRestoresIt() {
    worker.start();

    book.put(TaskLimits.of("configured").withRate(RateLimit.parse("2/s"))).join();
    book.put(TaskLimits.of("free").withRate(RateLimit.parse("3/s"))).join();
    book.put(TaskLimits.of("registered").withRate(RateLimit.NONE)).join();
    awaitLimit("free", RateLimit.parse("3/s"));
    awaitLimit("configured", RateLimit.parse("2/s"));
    awaitLimit("registered", RateLimit.NONE);

    book.delete("configured").join();
    book.delete("free").join();
    book.put(TaskLimits.of("registered")).join(); // no rate of its own in the book: the task's

    awaitLimit("configured", RateLimit.parse("7/m"));
    awaitLimit("free", RateLimit.NONE);
    awaitLimit("registered", RateLimit.parse("5/s"));
  }

  @Test
  void aRemoteControlRateLastsUntilTheNextChangeInTheBook() {
    worker.start();
    worker.rateLimiter().set("free", RateLimit.parse("9/s")); // as Pidbox's rate_limit does

    book.put(TaskLimits.of("free").withRate(RateLimit.parse("1/s"))).join();

    awaitLimit("free", RateLimit.parse("1/s"));
  }

  private void awaitLimit(String task, RateLimit limit) {
    Await.until(
        WAIT,
        task + " at " + limit + " on the worker",
        () -> worker.rateLimiter().limitOf(task).equals(limit));
  }
}
