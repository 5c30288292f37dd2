package io.lovage.system;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Polls a condition until a deadline and says whether it came true, without failing: the fault
 * scenarios count what did not happen in time instead of stopping at the first miss. ({@code Await}
 * is the failing kind.)
 */
final class Deadline {
  private static final long POLL_MILLIS = 100;

  private Deadline() {}

  static boolean poll(Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (condition.getAsBoolean()) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted while polling", e);
      }
    }
  }
}
