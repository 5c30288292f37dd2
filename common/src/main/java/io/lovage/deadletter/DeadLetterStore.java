package io.lovage.deadletter;

import io.lovage.broker.Broker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.StreamReader;
import io.lovage.protocol.Json;
import io.lovage.result.TaskEvents;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * Lists, replays and deletes dead letters. A task queue's dead-letter queue is a stream, so
 * browsing it consumes nothing; replaying or deleting one appends a tombstone for its offset to the
 * same stream, which hides it from then on.
 *
 * <p>Replay publishes the message to its original queue (confirmed) and only then writes the
 * tombstone: interrupted halfway, the dead letter is still listed and the task may run twice, but
 * it is never lost.
 */
public final class DeadLetterStore {
  static final String TOMBSTONE = "x-lovage-tombstone";
  static final String ACTION = "x-lovage-action";

  /** Reading stops when the stream has been quiet this long: its end. */
  static final Duration END_OF_STREAM = Duration.ofMillis(300);

  /** Dead letters looked at per request at most (a listing past them continues from `next`). */
  static final int MAX_SCAN = 100_000;

  private final Broker broker;
  private final Clock clock;
  private final TaskEvents events;

  public DeadLetterStore(Broker broker, String hostname, Clock clock) {
    this.broker = broker;
    this.clock = clock;
    this.events = new TaskEvents(broker, hostname, clock);
  }

  /** A page of dead letters and the offset the next page starts from (null at the end). */
  public record Page(String queue, List<DeadLetter> deadLetters, Long next) {}

  /** The dead letter could not be found: unknown id, or already replayed or deleted. */
  public static final class NotFoundException extends RuntimeException {
    public NotFoundException(String message) {
      super(message);
    }
  }

  /** The dead letters of a task queue, from an offset on, oldest first. */
  public Page list(String queue, long from, int limit) {
    List<StreamReader.Entry> entries = scan(queue, from);
    Set<Long> settled = tombstones(entries);
    List<DeadLetter> page = new ArrayList<>();
    Long next = null;
    for (StreamReader.Entry entry : entries) {
      if (isTombstone(entry) || settled.contains(entry.offset())) {
        continue;
      }
      if (page.size() == limit) {
        next = entry.offset();
        break;
      }
      page.add(describe(queue, entry));
    }
    return new Page(queue, page, next);
  }

  /** One dead letter by id, if it is still there. */
  public Optional<DeadLetter> find(String id) {
    Id parsed = Id.parse(id);
    return live(parsed).map(entry -> describe(parsed.queue(), entry));
  }

  /**
   * Sends the dead letter back to its original queue with its retry count reset, then hides it.
   * Answers the task id (or null for a message that is not a task message).
   */
  public DeadLetter replay(String id) {
    Id parsed = Id.parse(id);
    StreamReader.Entry entry =
        live(parsed).orElseThrow(() -> new NotFoundException("no dead letter " + id));
    DeadLetter dead = describe(parsed.queue(), entry);
    Map<String, Object> headers = new LinkedHashMap<>();
    entry
        .message()
        .headers()
        .forEach(
            (name, value) -> {
              if (!Message.isDeliveryHeader(name)) {
                headers.put(name, value);
              }
            });
    if (headers.containsKey("retries")) {
      headers.put("retries", 0);
    }
    String target = originalQueue(parsed.queue(), entry.message());
    // The state starts over before the task can run again, so its new outcome is not reset.
    if (dead.taskId() != null) {
      events.replayed(dead.taskId(), dead.task(), target).join();
    }
    broker
        .publish(LovageTopology.TASK_EXCHANGE, target, entry.message().withHeaders(headers))
        .join();
    settle(parsed, "replayed");
    return dead;
  }

  /** Hides a dead letter for good. */
  public void delete(String id) {
    Id parsed = Id.parse(id);
    live(parsed).orElseThrow(() -> new NotFoundException("no dead letter " + id));
    settle(parsed, "deleted");
  }

  private void settle(Id id, String action) {
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put(TOMBSTONE, id.offset());
    headers.put(ACTION, action);
    headers.put("x-lovage-at", clock.instant().toString());
    broker
        .publish("", LovageTopology.deadLetterQueue(id.queue()), Message.json(new byte[0], headers))
        .join();
  }

  private Optional<StreamReader.Entry> live(Id id) {
    List<StreamReader.Entry> entries = scan(id.queue(), id.offset());
    if (entries.isEmpty()
        || entries.get(0).offset() != id.offset()
        || isTombstone(entries.get(0))
        || tombstones(entries).contains(id.offset())) {
      return Optional.empty();
    }
    return Optional.of(entries.get(0));
  }

  private List<StreamReader.Entry> scan(String queue, long from) {
    return StreamReader.read(
        broker, LovageTopology.deadLetterQueue(queue), from, MAX_SCAN, END_OF_STREAM);
  }

  private static Set<Long> tombstones(List<StreamReader.Entry> entries) {
    Set<Long> settled = new HashSet<>();
    for (StreamReader.Entry entry : entries) {
      if (entry.message().headers().get(TOMBSTONE) instanceof Number n) {
        settled.add(n.longValue());
      }
    }
    return settled;
  }

  private static boolean isTombstone(StreamReader.Entry entry) {
    return entry.message().headers().containsKey(TOMBSTONE);
  }

  private static DeadLetter describe(String queue, StreamReader.Entry entry) {
    Map<String, Object> h = entry.message().headers();
    return new DeadLetter(
        new Id(queue, entry.offset()).toString(),
        queue,
        entry.offset(),
        text(h.get("id")),
        text(h.get("task")),
        reason(h),
        text(h.get("x-lovage-exception-type")),
        text(h.get("x-lovage-exception-message")),
        text(h.get("x-lovage-traceback")),
        h.get("x-lovage-attempts") instanceof Number n ? n.longValue() : deathCount(h),
        h.containsKey("x-lovage-failed-at") ? text(h.get("x-lovage-failed-at")) : deathTime(h),
        body(entry.message()));
  }

  /** Lovage's own reason, or what RabbitMQ wrote in x-death when it dead-lettered the message. */
  private static String reason(Map<String, Object> h) {
    if (h.get("x-lovage-reason") != null) {
      return text(h.get("x-lovage-reason"));
    }
    Map<?, ?> death = firstDeath(h);
    if (death == null) {
      return "unknown";
    }
    return "dead-lettered by RabbitMQ: "
        + death.get("reason")
        + " (queue "
        + death.get("queue")
        + ")";
  }

  private static long deathCount(Map<String, Object> h) {
    Map<?, ?> death = firstDeath(h);
    return death != null && death.get("count") instanceof Number n ? n.longValue() : 0;
  }

  private static String deathTime(Map<String, Object> h) {
    Map<?, ?> death = firstDeath(h);
    return death == null || death.get("time") == null ? null : death.get("time").toString();
  }

  private static Map<?, ?> firstDeath(Map<String, Object> h) {
    return h.get("x-death") instanceof List<?> deaths
            && !deaths.isEmpty()
            && deaths.get(0) instanceof Map<?, ?> death
        ? death
        : null;
  }

  private static String originalQueue(String queue, Message message) {
    Object original = message.headers().get("x-lovage-original-queue");
    if (original != null) {
      return original.toString();
    }
    Map<?, ?> death = firstDeath(message.headers());
    return death != null && death.get("queue") != null ? death.get("queue").toString() : queue;
  }

  private static JsonNode body(Message message) {
    try {
      return Json.MAPPER.readTree(message.body());
    } catch (JacksonException e) {
      return Json.MAPPER
          .getNodeFactory()
          .stringNode(new String(message.body(), StandardCharsets.UTF_8));
    }
  }

  private static String text(Object value) {
    return value == null ? null : value.toString();
  }

  /** {@code <queue>:<offset>}; the queue name may itself hold colons. */
  record Id(String queue, long offset) {
    static Id parse(String id) {
      int colon = id == null ? -1 : id.lastIndexOf(':');
      try {
        if (colon > 0) {
          return new Id(id.substring(0, colon), Long.parseLong(id.substring(colon + 1)));
        }
      } catch (NumberFormatException e) {
        // falls through
      }
      throw new NotFoundException("'" + id + "' is not a dead letter id (<queue>:<offset>)");
    }

    @Override
    public String toString() {
      return queue + ":" + offset;
    }
  }
}
