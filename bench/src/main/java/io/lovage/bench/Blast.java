package io.lovage.bench;

import io.lovage.TaskClient;
import io.lovage.protocol.TaskMessage;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;

/**
 * Sends {@code count} tasks through the Java {@link TaskClient}, keeping at most {@link
 * BenchContext#CONFIRM_WINDOW} unconfirmed, while polling how many have completed; times from the
 * first publish to the poll that sees the last one done.
 *
 * <p>A poll costs the system measured (a Lovage worker answers an HTTP request for it, once its
 * whole {@code /prometheus} page: JFR put 9 % of a worker's samples there). So the polls are sparse
 * while the end is far and every {@link #FINE_POLL_MILLIS} near it: each waits half the time the
 * rate so far says is left, between {@link #FINE_POLL_MILLIS} and {@link #COARSE_POLL_MILLIS}.
 */
final class Blast {
  static final long FINE_POLL_MILLIS = 20;
  static final long COARSE_POLL_MILLIS = 1_000;

  private Blast() {}

  /**
   * @param seconds from the first publish to the last completion seen
   */
  record Result(int tasks, double seconds) {
    double perSecond() {
      return tasks / seconds;
    }
  }

  /**
   * @param completed tasks completed since the blast began (the caller subtracts its baseline)
   */
  static Result run(
      String label,
      TaskClient client,
      String queue,
      int count,
      IntFunction<TaskMessage> task,
      LongSupplier completed,
      Duration timeout) {
    Semaphore window = new Semaphore(BenchContext.CONFIRM_WINDOW);
    AtomicLong confirmed = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long start = System.nanoTime();
    Thread publisher =
        Thread.ofPlatform()
            .name("bench-publisher")
            .start(
                () -> {
                  for (int i = 0; i < count && failure.get() == null; i++) {
                    try {
                      window.acquire();
                    } catch (InterruptedException e) {
                      return;
                    }
                    client
                        .send(task.apply(i), queue)
                        .whenComplete(
                            (sent, error) -> {
                              window.release();
                              if (error != null) {
                                failure.compareAndSet(null, error);
                              } else {
                                confirmed.incrementAndGet();
                              }
                            });
                  }
                });
    long deadline = start + timeout.toNanos();
    long nextReport = start + 1_000_000_000L;
    try {
      while (true) {
        long done = completed.getAsLong();
        long now = System.nanoTime();
        if (done >= count) {
          double seconds = (now - start) / 1e9;
          System.out.printf(
              "  %s: %,d tasks in %.2f s = %,.0f tasks/s%n",
              label, count, seconds, count / seconds);
          return new Result(count, seconds);
        }
        if (failure.get() != null) {
          throw new IllegalStateException(
              label + ": a publish failed: " + failure.get(), failure.get());
        }
        if (now > deadline) {
          throw new IllegalStateException(
              String.format(
                  "%s: only %,d of %,d tasks completed within %s (%,d confirmed)",
                  label, done, count, timeout, confirmed.get()));
        }
        if (now >= nextReport) {
          System.out.printf(
              "  %s: published %,d/%,d, completed %,d%n", label, confirmed.get(), count, done);
          nextReport += 1_000_000_000L;
        }
        Pause.millis(nextPollMillis(done, count, (now - start) / 1e6));
      }
    } finally {
      publisher.interrupt();
      try {
        publisher.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * How long to wait before the next poll: half of what the rate so far says is left, between the
   * fine and the coarse poll.
   *
   * @param elapsedMillis since the first publish
   */
  static long nextPollMillis(long done, int count, double elapsedMillis) {
    if (done <= 0 || elapsedMillis <= 0) {
      return FINE_POLL_MILLIS * 5;
    }
    double leftMillis = (count - done) * elapsedMillis / done;
    return Math.max(FINE_POLL_MILLIS, Math.min(COARSE_POLL_MILLIS, (long) (leftMillis / 2)));
  }

  /** A generous limit: the slowest system here should do 100 tasks/s. */
  static Duration timeoutFor(int tasks) {
    return Duration.ofSeconds(60 + tasks / 100);
  }
}
