package io.lovage.system;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Clients that keep submitting {@code demo.mark} tasks over {@code POST /tasks}, one request at a
 * time each, until the ledger holds the target number of 202s or {@link #close()}; the ledger
 * records every answer. After a refusal a client backs off briefly, as one that honours {@code
 * Retry-After} would, without waiting the full 5 s. A scenario that must fault the system while
 * clients are submitting starts them without a target ({@link #UNTIL_TOLD}) and sets one with
 * {@link #finishAt} once its faults are over: a fast machine can otherwise reach a fixed target
 * before the fault begins.
 */
final class Submitters implements AutoCloseable {
  private static final Duration BACK_OFF = Duration.ofMillis(100);

  /** No target yet: the clients submit until {@link #finishAt} or {@link #close()}. */
  static final long UNTIL_TOLD = Long.MAX_VALUE;

  private final AtomicBoolean running = new AtomicBoolean(true);
  private final List<Thread> threads = new ArrayList<>();
  private volatile long confirmTarget;

  Submitters(int clients, Ledger ledger, AppProcess producer, double seconds, long target) {
    this(clients, 1, ledger, producer, seconds, target);
  }

  /** Clients that each send {@code batch} tasks per request ({@code POST /tasks/batch} if > 1). */
  Submitters(
      int clients, int batch, Ledger ledger, AppProcess producer, double seconds, long target) {
    this.confirmTarget = target;
    for (int i = 0; i < clients; i++) {
      threads.add(
          Thread.ofPlatform()
              .name("submitter-" + i)
              .start(
                  () -> {
                    while (running.get() && ledger.confirmedCount() < confirmTarget) {
                      boolean accepted =
                          batch > 1
                              ? ledger.submitBatch(producer, batch, seconds)
                              : ledger.submit(producer, seconds).confirmed();
                      if (!accepted) {
                        backOff();
                      }
                    }
                  }));
    }
  }

  private static void backOff() {
    try {
      Thread.sleep(BACK_OFF);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The clients stop once the ledger holds this many 202s (at once if it already does). */
  void finishAt(long confirmTarget) {
    this.confirmTarget = confirmTarget;
  }

  /** Waits until every client has reached the target (or was stopped). */
  boolean awaitDone(Duration timeout) {
    return Deadline.poll(timeout, () -> threads.stream().noneMatch(Thread::isAlive));
  }

  @Override
  public void close() {
    running.set(false);
    for (Thread t : threads) {
      try {
        t.join(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
