package io.lovage.system;

import java.util.Map;

/**
 * What happened to the tasks of one fault scenario; the columns of the suite's table.
 *
 * @param submitted requests (or raw messages) sent
 * @param confirmed answered 202 (REST) or confirmed by the broker (raw AMQP)
 * @param refused answered anything else: 503 or 4xx (or no answer)
 * @param completed confirmed tasks that reached the outcome the scenario expects (SUCCESS)
 * @param deadLetters confirmed tasks or messages that ended in the dead-letter queue, with a reason
 * @param lost confirmed tasks that reached neither by the deadline
 * @param lostButRan of the lost, those that ran (a line in the mark file) but were never recorded
 * @param ranTwice tasks whose code ran more than once
 * @param ranUnconfirmed refused tasks that ran anyway
 * @param notCompleted states of the confirmed tasks that did not complete, with how many
 */
record Counts(
    int submitted,
    int confirmed,
    int refused,
    int completed,
    int deadLetters,
    int lost,
    int lostButRan,
    int ranTwice,
    int ranUnconfirmed,
    Map<String, Long> notCompleted) {

  static Counts none() {
    return new Counts(0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of());
  }

  /** The counts of two groups of tasks of one scenario, together. */
  Counts plus(Counts o) {
    Map<String, Long> states = new java.util.TreeMap<>(notCompleted);
    o.notCompleted.forEach((state, n) -> states.merge(state, n, Long::sum));
    return new Counts(
        submitted + o.submitted,
        confirmed + o.confirmed,
        refused + o.refused,
        completed + o.completed,
        deadLetters + o.deadLetters,
        lost + o.lost,
        lostButRan + o.lostButRan,
        ranTwice + o.ranTwice,
        ranUnconfirmed + o.ranUnconfirmed,
        states);
  }
}
