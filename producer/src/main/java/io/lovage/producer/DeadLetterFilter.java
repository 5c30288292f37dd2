package io.lovage.producer;

import io.lovage.deadletter.DeadLetter;
import java.util.Locale;

/**
 * Which dead letters a bulk replay or delete touches: those of a task name (exact), whose reason
 * contains a text (ignoring case); an empty field matches every dead letter.
 */
record DeadLetterFilter(String task, String reason) {
  DeadLetterFilter {
    task = task == null ? "" : task.strip();
    reason = reason == null ? "" : reason.strip();
  }

  boolean isEmpty() {
    return task.isEmpty() && reason.isEmpty();
  }

  boolean matches(DeadLetter d) {
    return (task.isEmpty() || task.equals(d.task()))
        && (reason.isEmpty()
            || (d.reason() != null
                && d.reason().toLowerCase(Locale.ROOT).contains(reason.toLowerCase(Locale.ROOT))));
  }
}
