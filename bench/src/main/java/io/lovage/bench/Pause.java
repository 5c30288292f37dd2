package io.lovage.bench;

import java.time.Duration;
import java.time.Instant;

/** Sleeping between polls, with interruption kept (Ctrl-C ends the bench through it). */
final class Pause {
  private Pause() {}

  static void millis(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  static void until(Instant instant) {
    long millis = Duration.between(Instant.now(), instant).toMillis();
    if (millis > 0) {
      millis(millis);
    }
  }
}
