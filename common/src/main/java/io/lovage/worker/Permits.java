package io.lovage.worker;

import io.lovage.broker.Broker;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.PublishException;
import io.lovage.broker.Topology;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Concurrency permits kept in RabbitMQ alone, for {@link ConcurrencyLimiter}. A limit of N for one
 * task (or one value of its key argument) is two classic queues:
 *
 * <ul>
 *   <li>{@code lovage.permits.<task>.n<N>[.<hash of key value>]}: N permit messages (N in the name:
 *       a limit changed at run time has permits of its own, and tasks running under the old one
 *       finish under it). A worker takes one with basic.get and holds it unacknowledged while the
 *       task runs, then requeues it. A worker that dies holding it loses its connection, and
 *       RabbitMQ puts the permit back.
 *   <li>the same name with {@code .seeded}, {@code x-max-length: 1} and {@code reject-publish}: its
 *       one message, never read, says the permits were made. Only the worker whose marker publish
 *       is confirmed publishes the N permits, so N workers starting at once make N permits, not N².
 * </ul>
 *
 * <p>Both expire when unused. Every take declares both first (a declaration renews a queue's
 * lease), so the marker outlives the last take by {@link #MARKER_EXPIRES}: longer than a task holds
 * a permit, its tasks being bounded by their hard time limit and RabbitMQ's {@code
 * consumer_timeout} (30 min). So when the marker expires every permit is back and ready, and the
 * permit queue, declared with {@code x-max-length: N} and {@code reject-publish}, refuses whatever
 * the next seeding would add beyond N (unacknowledged messages do not count toward that length,
 * which is why the marker is needed at all). The permit queue outlives its marker by {@link
 * #PERMITS_EXPIRY_SLACK}, so a marker never stands without its permits. A queue's arguments are
 * those of its first declaration: a new N applies once the key's queues expired.
 *
 * <p>Classic queues: a quorum queue counts past its length limit by one, and counts every requeue
 * of a permit toward its delivery limit (20 by default on RabbitMQ 4.x), then dead-letters it.
 */
final class Permits {
  static final String QUEUE_PREFIX = "lovage.permits.";
  static final String MARKER_SUFFIX = ".seeded";

  /** How long a key's marker outlives the last attempt to take one of its permits. */
  static final Duration MARKER_EXPIRES = Duration.ofHours(2);

  /** How much longer than its marker a permit queue lasts. */
  static final Duration PERMITS_EXPIRY_SLACK = Duration.ofMinutes(1);

  private final Broker broker;

  Permits(Broker broker) {
    this.broker = broker;
  }

  /**
   * The permit queue of a task's limit of {@code permits}, for one value of its key ({@code null}:
   * per task).
   */
  static String queue(String task, int permits, String keyValue) {
    String perTask = LovageTopology.concurrencyPermits(task, permits);
    return keyValue == null ? perTask : perTask + "." + hash(keyValue);
  }

  static Topology topology(String queue, int permits) {
    return new Topology(
        List.of(),
        List.of(
            Topology.Queue.bounded(queue + MARKER_SUFFIX, 1, MARKER_EXPIRES, Map.of()),
            Topology.Queue.bounded(
                queue, permits, MARKER_EXPIRES.plus(PERMITS_EXPIRY_SLACK), Map.of())),
        List.of());
  }

  /**
   * Takes a permit of {@code queue}, making its {@code permits} first if nobody has: the permit to
   * requeue once the task is settled, or empty when all are held now. Blocks for a few round trips.
   */
  Optional<Delivery> take(String queue, int permits) {
    broker.declare(topology(queue, permits));
    if (publish(queue + MARKER_SUFFIX).join()) {
      List<CompletableFuture<Boolean>> made = new ArrayList<>();
      for (int i = 0; i < permits; i++) {
        made.add(publish(queue));
      }
      made.forEach(CompletableFuture::join);
    }
    return broker.get(queue);
  }

  /** Whether the broker took the message; false when the queue refused it (full) or is gone. */
  private CompletableFuture<Boolean> publish(String queue) {
    Message message = Message.text("permit");
    return broker
        .publish("", queue, message)
        .handle(
            (ok, error) -> {
              if (error == null) {
                return true;
              }
              Throwable cause = error instanceof CompletionException ? error.getCause() : error;
              if (cause instanceof PublishException refused
                  && (refused.reason() == PublishException.Reason.NACKED
                      || refused.reason() == PublishException.Reason.UNROUTABLE)) {
                return false;
              }
              throw error instanceof CompletionException c ? c : new CompletionException(error);
            });
  }

  private static String hash(String keyValue) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(keyValue.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
