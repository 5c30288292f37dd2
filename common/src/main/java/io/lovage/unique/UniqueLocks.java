package io.lovage.unique;

import io.lovage.broker.Broker;
import io.lovage.broker.Delivery;
import io.lovage.broker.Message;
import io.lovage.broker.PublishException;
import io.lovage.broker.Topology;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Locks on uniqueness keys, kept in RabbitMQ alone. A lock is two classic queues named after the
 * key's hash:
 *
 * <ul>
 *   <li>{@code lovage.unique.<hash>}, the lock: {@code x-max-length: 1} with {@code x-overflow:
 *       reject-publish}. Its one message is the claim. A publisher whose claim is confirmed holds
 *       the lock; one whose claim is nacked does not. The queue process decides, one publish after
 *       the other, so two publishers never both win, whichever producer JVM they are in.
 *   <li>{@code lovage.unique.<hash>.id}: the holder's task id, written by the holder once its claim
 *       is confirmed; losers read it there. They never read the lock queue itself: a message taken
 *       with basic.get is unacknowledged meanwhile and no longer counts toward the length limit, so
 *       a reader would open the lock to the next publisher.
 * </ul>
 *
 * <p>Both queues have a message TTL of {@code uniqueFor}: a claim whose holder never releases it
 * (the worker died, a Celery worker ran the task) ends then. Both expire when unused for {@code
 * uniqueFor} plus {@link #QUEUE_EXPIRY_SLACK}. A key's queues keep the arguments of whoever
 * declared them first: a later claim with another {@code uniqueFor} lasts as long as the first one
 * said, until the queues expired.
 *
 * <p>Classic queues, not quorum queues: a quorum queue counts past its limit by one ({@code ready >
 * max}), so two claims could both be confirmed. RabbitMQ 3.10 and 4.x behave alike here.
 */
public final class UniqueLocks {
  private static final Logger log = LoggerFactory.getLogger(UniqueLocks.class);

  public static final String QUEUE_PREFIX = "lovage.unique.";
  static final String ID_SUFFIX = ".id";

  /** Unused lock queues stay this much longer than their claims could. */
  static final Duration QUEUE_EXPIRY_SLACK = Duration.ofMinutes(1);

  /**
   * How long a loser waits for the holder's id: the holder writes it right after its claim is
   * confirmed, so only a holder that died in between makes a loser wait this long.
   */
  static final Duration CLAIM_TIMEOUT = Duration.ofSeconds(5);

  private final Broker broker;

  public UniqueLocks(Broker broker) {
    this.broker = broker;
  }

  /** What a claim found: this task holds the lock now, or another task held it. */
  public sealed interface Claim {
    /** The id of the task that holds the lock. */
    String id();

    record Taken(String id) implements Claim {}

    record Held(String id) implements Claim {}
  }

  /** The lock is held, but its holder's id did not turn up within {@link #CLAIM_TIMEOUT}. */
  public static final class Busy extends RuntimeException {
    public Busy(String message) {
      super(message);
    }
  }

  /** The lock queue of a lock (the hash of a key, see {@link io.lovage.Unique#lockFor}). */
  public static String lockQueue(String lock) {
    return QUEUE_PREFIX + lock;
  }

  /** The queue holding the lock holder's task id. */
  public static String idQueue(String lock) {
    return QUEUE_PREFIX + lock + ID_SUFFIX;
  }

  /** The two queues of a lock. */
  public static Topology topology(String lock, Duration uniqueFor) {
    long ttl = uniqueFor.toMillis();
    long expires = ttl + QUEUE_EXPIRY_SLACK.toMillis();
    return new Topology(
        List.of(),
        List.of(
            Topology.Queue.bounded(
                lockQueue(lock), 1, Duration.ofMillis(expires), Map.of("x-message-ttl", ttl)),
            Topology.Queue.forgotten(
                idQueue(lock),
                Map.of("x-queue-type", "classic", "x-message-ttl", ttl, "x-expires", expires))),
        List.of());
  }

  /**
   * Claims a lock for {@code taskId}, or finds who holds it. Blocks for a few round trips to the
   * broker; longer only while the holder has not written its id yet.
   *
   * @throws Busy when the lock is held but the holder's id did not turn up in time
   * @throws PublishException when the broker did not take the claim (connection lost, timeout)
   */
  public Claim claim(String lock, String taskId, Duration uniqueFor) {
    long deadline = System.nanoTime() + CLAIM_TIMEOUT.toNanos();
    for (int attempt = 0; ; attempt++) {
      broker.declare(topology(lock, uniqueFor));
      Optional<PublishException> refused = publish(lockQueue(lock), taskId);
      if (refused.isEmpty()) {
        return take(lock, taskId);
      }
      // Nacked: the lock is held. Unroutable: the lock queue expired or was deleted between
      // the declaration and the claim; declare it again.
      if (refused.get().reason() == PublishException.Reason.NACKED) {
        Optional<String> holder = holder(lock);
        if (holder.isPresent()) {
          return new Claim.Held(holder.get());
        }
      } else if (refused.get().reason() != PublishException.Reason.UNROUTABLE) {
        throw refused.get();
      }
      if (System.nanoTime() > deadline) {
        throw new Busy(
            "unique lock "
                + lockQueue(lock)
                + " is held but its holder's task id did not turn up within "
                + CLAIM_TIMEOUT.toSeconds()
                + " s");
      }
      pause(lock, attempt);
    }
  }

  /** The claim is confirmed: write the holder's id where losers read it. */
  private Claim take(String lock, String taskId) {
    Optional<PublishException> failed = publish(idQueue(lock), taskId);
    if (failed.isPresent()) {
      // Without its id the lock would only make losers wait: give it up, then report.
      releaseClaim(lock, taskId);
      throw failed.get();
    }
    return new Claim.Taken(taskId);
  }

  /** The holder's task id, if it has written it yet. */
  public Optional<String> holder(String lock) {
    return broker
        .get(idQueue(lock))
        .map(
            delivery -> {
              delivery.requeue();
              return text(delivery);
            });
  }

  /**
   * Releases the lock if {@code taskId} holds it: a task that finished after its claim expired (and
   * someone else claimed the key since) leaves the new holder's lock alone. Best effort; a claim
   * not released ends at its TTL.
   */
  public void release(String lock, String taskId) {
    release(lock, taskId, null);
  }

  /** How many more times a release reads an empty id queue (about 150 ms in all). */
  private static final int RELEASE_READS = 5;

  /**
   * As {@link #release(String, String)}, declaring the lock's queues first when {@code uniqueFor}
   * is known: a read of a queue that expired meanwhile would otherwise close the channel that
   * reads, and with it give back whatever else was taken on it (a worker's concurrency permits).
   */
  public void release(String lock, String taskId, Duration uniqueFor) {
    if (uniqueFor != null) {
      broker.declare(topology(lock, uniqueFor));
    }
    Optional<Delivery> id = broker.get(idQueue(lock));
    // A loser reading who holds the lock (holder()) has the id for a round trip, then puts
    // it back: read again a few times before taking the lock for expired or newly claimed, or an
    // equal submit racing the release would keep the lock held until its TTL (UniqueTasksIT did).
    for (int tried = 0; id.isEmpty() && tried < RELEASE_READS; tried++) {
      pause(lock, tried);
      id = broker.get(idQueue(lock));
    }
    if (id.isEmpty()) {
      return; // expired, or a new holder has not written its id yet
    }
    if (!taskId.equals(text(id.get()))) {
      id.get().requeue();
      return;
    }
    // The id stays taken until the claim is gone: a concurrent release finds nothing to do.
    releaseClaim(lock, taskId);
    id.get().ack();
    log.info("unique lock released lock={} task_id={}", lockQueue(lock), taskId);
  }

  private void releaseClaim(String lock, String taskId) {
    broker
        .get(lockQueue(lock))
        .ifPresent(
            claim -> {
              if (taskId.equals(text(claim))) {
                claim.ack();
              } else {
                claim.requeue();
              }
            });
  }

  private Optional<PublishException> publish(String queue, String taskId) {
    Message message = Message.text(taskId);
    try {
      broker.publish("", queue, message).join();
      return Optional.empty();
    } catch (CompletionException e) {
      if (e.getCause() instanceof PublishException refused) {
        return Optional.of(refused);
      }
      throw e;
    }
  }

  private static String text(Delivery delivery) {
    return new String(delivery.message().body(), StandardCharsets.UTF_8);
  }

  /** A short, growing, jittered pause, so losers that read an empty id queue do not spin. */
  private static void pause(String lock, int attempt) {
    long millis = Math.min(100, 5L << Math.min(attempt, 4));
    try {
      Thread.sleep(millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Busy("interrupted while waiting for unique lock " + lockQueue(lock));
    }
  }
}
