package io.lovage.limits;

import io.lovage.broker.Broker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.RecordStream;
import io.lovage.protocol.Json;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The run-time limits of every task, fleet-wide: records in the stream {@link
 * LovageTopology#LIMITS_STREAM}, which every worker and producer replica reads from its start, the
 * last record of a task winning, as the scheduler keeps its schedules. A record is {@code {"type":
 * "limits", "at", "limits": {...}}} or {@code {"type": "limits-deleted", "at", "task"}}.
 *
 * <pre>{@code
 * LimitBook book = new LimitBook(broker, Clock.systemUTC()).follow();
 * book.onChange((task, limits) -> ...);   // limits empty: deleted
 * book.put(TaskLimits.of("billing.sms").withRate(RateLimit.parse("50/s"))).join();
 * }</pre>
 */
public final class LimitBook implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LimitBook.class);

  /** How long a change may take to come back from the stream before it counts as failed. */
  public static final Duration READ_BACK = Duration.ofSeconds(10);

  private final Broker broker;
  private final Clock clock;
  private final RecordStream records;
  private final Map<String, TaskLimits> limits = new TreeMap<>();
  private final List<BiConsumer<String, Optional<TaskLimits>>> listeners =
      new CopyOnWriteArrayList<>();

  public LimitBook(Broker broker, Clock clock) {
    this.broker = broker;
    this.clock = clock;
    this.records = new RecordStream(broker, LovageTopology.LIMITS_STREAM, "limits");
  }

  /**
   * Calls {@code listener} with a task's name and its limits whenever they change, empty when they
   * were deleted; on the thread that read the change. Register before {@link #follow()} to hear
   * every limit already in the book too.
   */
  public LimitBook onChange(BiConsumer<String, Optional<TaskLimits>> listener) {
    listeners.add(listener);
    return this;
  }

  /** Reads the book from its start and from now on; {@link #caughtUp()} once it has read it all. */
  public LimitBook follow() {
    broker.declare(LovageTopology.limits());
    records.follow(this::onRecord);
    return this;
  }

  /** Whether every limit that was in the book when it started following is known. */
  public boolean caughtUp() {
    return records.caughtUp();
  }

  /** Waits until {@link #caughtUp()}, at most {@code timeout}; false if it has not by then. */
  public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
    return records.awaitCaughtUp(timeout);
  }

  /**
   * Sets a task's limits, replacing those it had; completes, with them as set, once this book has
   * read them back from the stream (so it shows them, in the stream's order with every other
   * replica's changes), or with an error if RabbitMQ did not take them or they were not read back
   * within {@link #READ_BACK}. Needs {@link #follow()}.
   */
  public CompletableFuture<TaskLimits> put(TaskLimits taskLimits) {
    TaskLimits stamped = taskLimits.at(clock.instant());
    ObjectNode record = Json.MAPPER.createObjectNode();
    record.put("type", "limits");
    record.put("at", stamped.at().toString());
    record.set("limits", stamped.toJson());
    return records.appendAndReadBack(record, READ_BACK).thenApply(read -> stamped);
  }

  /** Removes a task's limits: workers go back to their own; completes as {@link #put} does. */
  public CompletableFuture<Void> delete(String task) {
    ObjectNode record = Json.MAPPER.createObjectNode();
    record.put("type", "limits-deleted");
    record.put("at", clock.instant().toString());
    record.put("task", task);
    return records.appendAndReadBack(record, READ_BACK);
  }

  /** The limits of a task, if it has some in the book. */
  public synchronized Optional<TaskLimits> find(String task) {
    return Optional.ofNullable(limits.get(task));
  }

  /** Every task's limits, by task name. */
  public synchronized List<TaskLimits> all() {
    return List.copyOf(limits.values());
  }

  private void onRecord(JsonNode record) {
    switch (record.path("type").asString("")) {
      case "limits" -> {
        TaskLimits read = TaskLimits.fromJson(record.path("limits"));
        apply(read.task(), read);
      }
      case "limits-deleted" -> apply(record.path("task").asString(""), null);
      default -> log.debug("skipping a limits record of another kind");
    }
  }

  /**
   * Records a task's limits (null: deleted) and tells the listeners if that changed anything (a
   * deletion of limits that were not there changes nothing).
   */
  private void apply(String task, TaskLimits now) {
    synchronized (this) {
      TaskLimits before = now == null ? limits.remove(task) : limits.put(task, now);
      if (Objects.equals(before, now)) {
        return;
      }
    }
    log.info(
        "task limits changed task={} rate_limit={} concurrency={}",
        task,
        now == null ? "deleted" : now.rateLimit().map(Object::toString).orElse("own"),
        now == null ? "deleted" : now.concurrencyLimit().map(Object::toString).orElse("own"));
    listeners.forEach(listener -> listener.accept(task, Optional.ofNullable(now)));
  }

  @Override
  public void close() {
    records.close();
  }
}
