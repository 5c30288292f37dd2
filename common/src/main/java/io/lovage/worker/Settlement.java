package io.lovage.worker;

import io.lovage.worker.DeadLetters.DeadLetter;

/**
 * What becomes of one delivery, decided once on each of the worker's paths and carried out in one
 * place ({@code Worker.settle}), as Sidekiq's processor and Dramatiq's {@code post_process_message}
 * do: acknowledged (the task is done: its outcome, and what must follow it, are confirmed by the
 * broker), requeued (not done: it runs again, here or elsewhere), or moved to the dead-letter queue
 * with the reason.
 */
sealed interface Settlement {
  /** Done; the broker may forget the message. */
  record Acknowledge() implements Settlement {}

  /** Not done; the message goes back to its queue. */
  record Requeue() implements Settlement {}

  /** Never to run (again): the message goes to its queue's dead letters, with the reason. */
  record MoveToDeadLetters(DeadLetter letter) implements Settlement {}

  Settlement ACKNOWLEDGE = new Acknowledge();
  Settlement REQUEUE = new Requeue();

  static Settlement deadLetter(DeadLetter letter) {
    return new MoveToDeadLetters(letter);
  }
}
