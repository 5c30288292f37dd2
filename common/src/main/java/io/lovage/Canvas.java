package io.lovage;

import java.util.List;
import tools.jackson.databind.node.ObjectNode;

/**
 * A workflow of tasks, as Celery's canvas: a {@link Signature} (one task), a {@link Chain} (steps
 * one after the other, each getting the previous result), a {@link Group} (members in parallel,
 * their results as a list) or a {@link Chord} (a group, then a body that gets the list). They nest.
 * On the wire each is Celery's signature dict, so Celery clients and workers read them too.
 *
 * <pre>{@code
 * TaskFuture total =
 *     client.submit(
 *         Canvas.chord(
 *             List.of(Signature.of("demo.add", 1, 1), Signature.of("demo.add", 2, 2)),
 *             Signature.of("tsum")));
 * }</pre>
 */
public sealed interface Canvas permits Signature, Chain, Group, Chord {

  /** Celery's signature dict of this canvas. */
  ObjectNode toJson();

  /** Steps one after the other; each step's result goes first in the next one's args. */
  static Chain chain(Canvas... steps) {
    return new Chain(List.of(steps));
  }

  /** Members that run in parallel; the group's result is the list of theirs, in order. */
  static Group group(Canvas... members) {
    return new Group(List.of(members));
  }

  /** Members that run in parallel; the group's result is the list of theirs, in order. */
  static Group group(List<? extends Canvas> members) {
    return new Group(List.copyOf(members));
  }

  /**
   * A group whose body runs once, after every header task succeeded, with their results in header
   * order as its first argument; if one fails, the body fails with {@code ChordError}.
   */
  static Chord chord(List<? extends Canvas> header, Canvas body) {
    return new Chord(List.copyOf(header), body);
  }
}
