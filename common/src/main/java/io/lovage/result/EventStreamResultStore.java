package io.lovage.result;

import io.lovage.TaskError;
import io.lovage.TaskState;
import io.lovage.broker.Broker;
import io.lovage.broker.CatchUpMarker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Subscription;
import io.lovage.protocol.Json;
import io.lovage.protocol.PythonLiteral;
import io.lovage.protocol.TaskMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A {@link ResultStore} that reads the event stream {@code lovage.events} from its start and keeps
 * an index of the latest {@link TaskRecord} per task id in memory.
 *
 * <p>Every producer replica runs one and sees the same tasks; after a restart it reads the stream
 * again, so nothing depends on the process that sent a task. Memory holds at most {@code maxTasks}
 * tasks; past that the oldest-seen tasks move to the {@link TaskArchive} (on disk in the producer),
 * where a lookup still finds them. Without an archive they are forgotten (a lookup answers not
 * found) while their events stay in the stream until retention removes them.
 *
 * <p>Results expire as Celery's {@code result_expires} says: a task whose last event is older than
 * {@code expires} is no longer found, and a store that starts reads the stream only from that far
 * back. The stream's own retention (a policy, see docs/worker.md, "How long states and results are
 * kept") decides how long events stay on disk.
 */
public final class EventStreamResultStore implements ResultStore, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventStreamResultStore.class);

  public static final int DEFAULT_MAX_TASKS = 100_000;

  /** How long a finished or silent task stays findable by default: a day, as in Celery. */
  public static final Duration DEFAULT_EXPIRES = Duration.ofDays(1);

  private static final int PREFETCH = 1_000;
  private static final Pattern PYTHON_ERROR_LINE = Pattern.compile("([A-Za-z_][\\w.]*): ?(.*)");

  private final java.util.SequencedMap<String, TaskRecord> index;
  private final Map<String, String> idempotencyKeys;
  private final Duration expires;
  private final Clock clock;
  private final TaskArchive archive;
  private final CatchUpMarker marker = new CatchUpMarker();
  private volatile long followedAt;
  private volatile boolean historyLogged;
  private Subscription subscription;
  private final java.util.List<java.util.function.Consumer<TaskRecord>> listeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final java.util.List<java.util.function.BiConsumer<TaskEvent, Instant>> eventListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Guards the index, the idempotency keys and {@link #evicted}. A lock that parks whoever waits,
   * not a monitor: every request thread of a busy producer and the stream's reader take it, and
   * virtual threads spinning on a contended monitor took a tenth of the producer's CPU under {@code
   * POST /tasks}.
   */
  private final ReentrantLock lock = new ReentrantLock();

  /** Signalled when {@link #evicted} shrinks or a drain ends. */
  private final Condition archived = lock.newCondition();

  /**
   * Records memory evicted that the archive was not given yet, oldest first: {@link #known} looks
   * here between the two, so a task is never missing while it moves. One drain at a time hands them
   * to the archive outside the lock (serializing them there took a sixth of a busy producer's CPU,
   * under the lock every request and event needs). At most {@link #MAX_EVICTED}: past that, new
   * events wait for the drain.
   */
  private final LinkedHashMap<String, TaskRecord> evicted = new LinkedHashMap<>();

  private static final int MAX_EVICTED = 10_000;
  private boolean draining;

  /** How many tasks memory holds at most. */
  private final int maxTasks;

  /**
   * Tasks memory has taken in so far, each counted once when first put in the index. Memory evicts
   * in the order it took tasks in, and only while it holds more than {@link #maxTasks}: a task
   * taken in after a mark of this count is evicted, and so archived, only after more than {@code
   * maxTasks} others came in after the mark. Written with the lock held.
   */
  private volatile long admitted;

  /**
   * Set by {@link #close}: the archive is closed (its files deleted), so what memory evicts from
   * then on is dropped. Requests and events still come in while a producer shuts down.
   */
  private boolean closed;

  private final Executor drains =
      Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("lovage-archive-", 0).factory());

  /** The id of the task first sent with this idempotency key, if it is still known. */
  public Optional<String> findByIdempotencyKey(String key) {
    lock.lock();
    try {
      return Optional.ofNullable(idempotencyKeys.get(key));
    } finally {
      lock.unlock();
    }
  }

  public EventStreamResultStore(int maxTasks) {
    this(maxTasks, DEFAULT_EXPIRES, Clock.systemUTC());
  }

  /**
   * A store of at most {@code maxTasks} tasks, each forgotten {@code expires} after its last event.
   */
  public EventStreamResultStore(int maxTasks, Duration expires, Clock clock) {
    this(maxTasks, expires, clock, TaskArchive.NONE);
  }

  /**
   * A store that keeps at most {@code maxTasks} tasks in memory and the tasks it evicts in {@code
   * archive}, each forgotten {@code expires} after its last event. The store closes the archive.
   */
  public EventStreamResultStore(int maxTasks, Duration expires, Clock clock, TaskArchive archive) {
    if (maxTasks < 1 || expires.isNegative() || expires.isZero()) {
      throw new IllegalArgumentException(
          "results need maxTasks >= 1 and a positive expiry, got " + maxTasks + ", " + expires);
    }
    this.expires = expires;
    this.clock = clock;
    this.archive = archive;
    this.maxTasks = maxTasks;
    this.idempotencyKeys =
        new java.util.LinkedHashMap<>(1024, 0.75f, false) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > maxTasks;
          }
        };
    this.index =
        new LinkedHashMap<>(1024, 0.75f, false) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, TaskRecord> eldest) {
            // Called by put once per entry it adds, never for a key already there.
            admitted++;
            if (size() <= maxTasks) {
              return false;
            }
            if (archive != TaskArchive.NONE && !closed && current(eldest.getValue())) {
              evicted.put(eldest.getKey(), eldest.getValue());
              drainSoon();
            }
            return true;
          }
        };
  }

  /**
   * Starts following the event stream from the first event that is not expired yet: events older
   * than {@code expires} are not read at all. Until that history is read ({@link #caughtUp()}) a
   * task that is not found may only not have been read yet.
   */
  public EventStreamResultStore follow(Broker broker) {
    Date since = Date.from(clock.instant().minus(expires));
    followedAt = System.nanoTime();
    subscription =
        broker.consume(
            LovageTopology.EVENT_STREAM,
            ConsumeOptions.prefetch(PREFETCH).withArgument("x-stream-offset", since),
            this::onDelivery);
    marker
        .append(broker, LovageTopology.EVENT_STREAM)
        .whenComplete(
            (ok, error) -> {
              if (error != null) {
                log.warn(
                    "could not mark the end of the event history; tasks not read yet are reported"
                        + " unknown until they are error={}",
                    error.toString());
                marker.giveUp();
              }
            });
    return this;
  }

  /**
   * Whether every event that was in the stream when {@link #follow} began has been read: from then
   * on a task that is not found is unknown (or expired), not merely not read yet.
   */
  public boolean caughtUp() {
    return marker.caughtUp();
  }

  private void onDelivery(Delivery delivery) {
    try {
      JsonNode body = Json.MAPPER.readTree(delivery.message().body());
      // Celery workers batch their task events as a JSON array (routing key task.multi).
      if (body.isArray()) {
        body.values().forEach(this::apply);
      } else if (!marker.isMarker(body)) {
        apply(body);
      } else if (marker.caughtUp() && !historyLogged) {
        historyLogged = true;
        log.info(
            "event history read in {} ms; {} tasks known",
            (System.nanoTime() - followedAt) / 1_000_000,
            knownTasks());
      }
    } catch (JacksonException e) {
      log.warn("skipping an event that is not JSON error={}", e.getOriginalMessage());
    } finally {
      delivery.ack();
    }
  }

  private int knownTasks() {
    lock.lock();
    try {
      return index.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Optional<TaskRecord> find(String id) {
    lock.lock();
    try {
      return Optional.ofNullable(known(id)).filter(this::current);
    } finally {
      lock.unlock();
    }
  }

  /** Whether a record's last event is younger than {@code expires}. */
  private boolean current(TaskRecord record) {
    Instant last = record.lastEvent();
    return last == null || last.isAfter(clock.instant().minus(expires));
  }

  /**
   * Forgets expired tasks from the oldest-seen end of the index, so memory follows the expiry and
   * not only {@code maxTasks}. (A task seen long ago that is still moving stops the sweep there; it
   * goes on at the next event.)
   */
  private void forgetExpired() {
    while (!index.isEmpty() && !current(index.firstEntry().getValue())) {
      index.pollFirstEntry();
    }
  }

  /**
   * A mark to take before sending a task and to hand to {@link #recordSent(TaskMessage, String,
   * Instant, long)} after: it tells whether the task's events, if read meanwhile, can have left
   * memory for the archive.
   */
  public long intake() {
    return admitted;
  }

  /**
   * Records a task this process has just sent, so that a lookup right after the send finds it
   * before the task-sent event comes back through the stream. Later events override it.
   */
  public void recordSent(TaskMessage task, String queue, Instant at) {
    recordSent(task, queue, at, -1);
  }

  /**
   * {@link #recordSent(TaskMessage, String, Instant)} for a task sent after {@code intake} was
   * taken ({@link #intake()}): unless more than {@code maxTasks} tasks came into memory since, none
   * read since can have been evicted, and the archive is not searched for this one (a search for a
   * new id probes the table of every segment on disk: about 4 % of a busy producer's CPU in a
   * profile of {@code POST /tasks}).
   */
  public void recordSent(TaskMessage task, String queue, Instant at, long intake) {
    TaskRecord sent =
        new TaskRecord(
            task.id(),
            task.task(),
            TaskState.PENDING,
            null,
            null,
            task.retries(),
            queue,
            null,
            at,
            null,
            null,
            null,
            null,
            TaskArguments.of(task.args(), task.kwargs()),
            task.parentId(),
            task.rootId());
    lockWithRoomInArchive();
    try {
      if (task.extraHeaders().get(TaskEvents.IDEMPOTENCY_KEY) instanceof String key) {
        idempotencyKeys.putIfAbsent(key, task.id());
      }
      forgetExpired();
      boolean mayBeArchived = intake < 0 || admitted - intake > maxTasks;
      if (known(task.id(), mayBeArchived) != null) {
        // Its events were read first (a fast worker), and memory may have evicted them since.
        return;
      }
      index.put(task.id(), sent);
    } finally {
      lock.unlock();
    }
  }

  /**
   * What memory or, for a task it evicted, the archive (or the records on their way there) knows of
   * a task; null if nothing. With the lock held.
   */
  private TaskRecord known(String id) {
    return known(id, true);
  }

  /** {@link #known(String)}, the archive left out when the task cannot be there. */
  private TaskRecord known(String id, boolean mayBeArchived) {
    TaskRecord inMemory = index.get(id);
    if (inMemory != null) {
      return inMemory;
    }
    TaskRecord moving = evicted.get(id);
    if (moving != null || !mayBeArchived) {
      return moving;
    }
    return archive.find(id).orElse(null);
  }

  /** Takes the lock once fewer than {@link #MAX_EVICTED} records wait for the archive. */
  private void lockWithRoomInArchive() {
    lock.lock();
    while (evicted.size() >= MAX_EVICTED) {
      archived.awaitUninterruptibly();
    }
  }

  /** With the lock held: starts a drain unless one runs. */
  private void drainSoon() {
    if (!draining) {
      draining = true;
      drains.execute(this::drain);
    }
  }

  /**
   * Hands the evicted records to the archive, oldest first, outside the lock. A record that came
   * back to memory meanwhile is written all the same (memory is looked in first); one evicted again
   * meanwhile stays for the next round, so the archive ends with the latest.
   */
  private void drain() {
    while (true) {
      java.util.List<TaskRecord> batch;
      lock.lock();
      try {
        if (evicted.isEmpty()) {
          draining = false;
          archived.signalAll();
          return;
        }
        batch = evicted.values().stream().limit(1_000).toList();
      } finally {
        lock.unlock();
      }
      RuntimeException failed = null;
      for (TaskRecord record : batch) {
        try {
          archive.put(record);
        } catch (RuntimeException e) {
          failed = e;
        }
      }
      lock.lock();
      try {
        batch.forEach(record -> evicted.remove(record.id(), record));
        archived.signalAll();
      } finally {
        lock.unlock();
      }
      if (failed != null) {
        log.warn(
            "could not archive tasks evicted from memory; lookups miss them until the store"
                + " reads the event stream again at its next start error={}",
            failed.toString());
      }
    }
  }

  /**
   * The most recent tasks first, optionally only those in {@code state} and named {@code task}
   * (null for any), skipping {@code offset} matches.
   */
  public java.util.List<TaskRecord> recent(TaskState state, String task, int offset, int limit) {
    return recent(
        r -> (state == null || r.state() == state) && (task == null || task.equals(r.task())),
        offset,
        limit);
  }

  /** The most recent tasks first that {@code filter} accepts, skipping {@code offset} of them. */
  public java.util.List<TaskRecord> recent(
      java.util.function.Predicate<TaskRecord> filter, int offset, int limit) {
    lock.lock();
    try {
      return index.sequencedValues().reversed().stream()
          .filter(this::current)
          .filter(filter)
          .skip(offset)
          .limit(limit)
          .toList();
    } finally {
      lock.unlock();
    }
  }

  /** How many tasks the index knows in each state (a state with none is left out). */
  public java.util.Map<TaskState, Long> countByState() {
    java.util.Map<TaskState, Long> counts = new java.util.EnumMap<>(TaskState.class);
    lock.lock();
    try {
      for (TaskRecord r : index.values()) {
        if (current(r)) {
          counts.merge(r.state(), 1L, Long::sum);
        }
      }
    } finally {
      lock.unlock();
    }
    return counts;
  }

  /** Applies one event in Celery's shape; events of unknown types or without a uuid are ignored. */
  public void apply(JsonNode event) {
    String id = event.path("uuid").asString(null);
    Optional<TaskEvent> type = TaskEvent.ofType(event.path("type").asString(""));
    if (id == null || type.isEmpty()) {
      return;
    }
    TaskRecord updated;
    lockWithRoomInArchive();
    try {
      if (type.get() == TaskEvent.SENT && event.hasNonNull(TaskEvents.IDEMPOTENCY_KEY)) {
        idempotencyKeys.putIfAbsent(event.get(TaskEvents.IDEMPOTENCY_KEY).asString(), id);
      }
      // A task memory evicted goes on from what the archive kept. Also on its sent event: that
      // is published once the task is confirmed, so a fast worker's outcome can precede it in the
      // stream, and starting over from nothing would hide that outcome.
      TaskRecord current = known(id);
      updated = next(current == null ? TaskRecord.unknown(id) : current, type.get(), event);
      index.put(id, updated);
      forgetExpired();
    } finally {
      lock.unlock();
    }
    listeners.forEach(listener -> listener.accept(updated));
    if (!eventListeners.isEmpty()) {
      Instant at = timestamp(event);
      eventListeners.forEach(listener -> listener.accept(type.get(), at));
    }
  }

  /** Called with every record that an event changed, after the change. */
  public void onChange(java.util.function.Consumer<TaskRecord> listener) {
    listeners.add(listener);
  }

  /**
   * Called with every task event read (its history first, then as they come), with its type and the
   * time it carries (null if none): for counting events over time, e.g. the dashboard's tasks per
   * second. A record's listener ({@link #onChange}) cannot tell a new outcome from a repeated event
   * of the same task.
   */
  public void onEvent(java.util.function.BiConsumer<TaskEvent, Instant> listener) {
    eventListeners.add(listener);
  }

  static TaskRecord next(TaskRecord r, TaskEvent type, JsonNode e) {
    // A replayed dead letter starts over; every other event moves only along TaskState's table.
    TaskState state =
        type == TaskEvent.REPLAYED || r.state().canMoveTo(type.state()) ? type.state() : r.state();
    boolean moved = state != r.state() || r.task() == null && type == TaskEvent.SENT;
    Instant at = timestamp(e);
    return new TaskRecord(
        r.id(),
        e.hasNonNull("name") ? e.get("name").asString() : r.task(),
        state,
        moved && type == TaskEvent.SUCCEEDED ? result(e) : r.result(),
        moved && type.state().isFinal() && type != TaskEvent.SUCCEEDED
            ? error(type, e)
            : type == TaskEvent.REPLAYED ? null : r.error(),
        retries(r, type, e),
        e.hasNonNull("queue") ? e.get("queue").asString() : r.queue(),
        type == TaskEvent.SENT ? r.worker() : e.path("hostname").asString(r.worker()),
        type == TaskEvent.SENT && r.sent() == null ? at : r.sent(),
        type == TaskEvent.RECEIVED
            ? at
            : r.received() == null ? instant(e, "received") : r.received(),
        type == TaskEvent.STARTED ? at : r.started() == null ? instant(e, "started") : r.started(),
        moved && state.isFinal() ? at : type == TaskEvent.REPLAYED ? null : r.finished(),
        progress(r, type, e),
        TaskArguments.from(e).orElse(r.arguments()),
        e.hasNonNull("parent_id") ? e.get("parent_id").asString() : r.parentId(),
        e.hasNonNull("root_id") ? e.get("root_id").asString() : r.rootId());
  }

  private static JsonNode progress(TaskRecord r, TaskEvent type, JsonNode e) {
    if (type == TaskEvent.PROGRESS) {
      ObjectNode progress = Json.MAPPER.createObjectNode();
      progress.put("done", e.path("done").asLong());
      progress.put("total", e.path("total").asLong());
      return progress;
    }
    return type == TaskEvent.REPLAYED ? null : r.progress();
  }

  /** Retries only grow, whatever order events arrive in; a replay starts them over. */
  private static int retries(TaskRecord r, TaskEvent type, JsonNode e) {
    if (!e.hasNonNull("retries")) {
      return r.retries();
    }
    int retries = e.get("retries").asInt();
    return type == TaskEvent.REPLAYED ? retries : Math.max(r.retries(), retries);
  }

  /**
   * Lovage's events carry the result as JSON in {@code result_json}; a Celery worker's carry only
   * Python's repr in {@code result}, which is read back as the literal it writes.
   */
  private static JsonNode result(JsonNode e) {
    if (e.has("result_json")) {
      return e.get("result_json");
    }
    JsonNode repr = e.path("result");
    return repr.isString() ? PythonLiteral.parse(repr.stringValue()) : repr;
  }

  private static TaskError error(TaskEvent event, JsonNode e) {
    String type = e.path("exc_type").asString(null);
    String message = e.path("exc_message").asString(null);
    if (type == null && e.hasNonNull("reason")) {
      String kind = event == TaskEvent.REVOKED ? "Revoked" : "Rejected";
      return new TaskError(kind, null, e.get("reason").asString(), null);
    }
    if (type == null) {
      // A Celery worker's event has only Python's repr, e.g. "ValueError('boom')", which some
      // pools wrap ("ExceptionWithTraceback()"); the traceback's last line names the real one.
      String exception = e.path("exception").asString("");
      Matcher last = PYTHON_ERROR_LINE.matcher(lastLine(e.path("traceback").asString("")));
      if (last.matches()) {
        String qualified = last.group(1);
        type = qualified.substring(qualified.lastIndexOf('.') + 1);
        message = last.group(2);
      } else {
        int paren = exception.indexOf('(');
        type = paren > 0 ? exception.substring(0, paren) : exception;
        message = exception;
      }
    }
    return new TaskError(
        type, e.path("exc_module").asString(null), message, e.path("traceback").asString(null));
  }

  private static String lastLine(String text) {
    String[] lines = text.strip().split("\n");
    return lines[lines.length - 1];
  }

  private static Instant timestamp(JsonNode e) {
    return instant(e, "timestamp");
  }

  /**
   * A time in Celery's form (seconds since the epoch): the event's {@code timestamp}, or one an
   * outcome event carries for a start it reports late (see {@link TaskEvents.Start}); null if none.
   */
  private static Instant instant(JsonNode e, String field) {
    double seconds = e.path(field).asDouble(0);
    return seconds <= 0 ? null : Instant.ofEpochMilli(Math.round(seconds * 1000));
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
    lock.lock();
    try {
      closed = true;
      // What memory evicted reaches the archive before it closes.
      while (draining) {
        archived.awaitUninterruptibly();
      }
      archive.close();
    } finally {
      lock.unlock();
    }
  }
}
