package io.lovage.testing;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/** Waits for a condition with a deadline, polling; tests never sleep a fixed time. */
public final class Await {
  private Await() {}

  /** Returns the first present value of {@code probe}, or fails after {@code timeout}. */
  public static <T> T until(Duration timeout, String what, Supplier<Optional<T>> probe) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<T> value = probe.get();
      if (value.isPresent()) {
        return value.get();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after " + timeout.toSeconds() + " s waiting for " + what);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }

  public static void until(Duration timeout, String what, java.util.function.BooleanSupplier ok) {
    until(timeout, what, () -> ok.getAsBoolean() ? Optional.of(true) : Optional.empty());
  }
}
