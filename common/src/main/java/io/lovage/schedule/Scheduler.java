package io.lovage.schedule;

import io.lovage.TaskClient;
import io.lovage.broker.Broker;
import io.lovage.broker.CatchUpMarker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.RecordStream;
import io.lovage.broker.Subscription;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.workflow.CanvasSender;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Periodic tasks with no single point of failure. Every replica runs a scheduler; one leads at a
 * time and sends the runs that fall due. Everything lives in RabbitMQ:
 *
 * <ul>
 *   <li>definitions in the stream {@link LovageTopology#SCHEDULE_STREAM}, read from its start by
 *       every replica, the last record per name winning;
 *   <li>leadership: the replica whose consumer holds the one message of {@link
 *       LovageTopology#SCHEDULER_QUEUE} (single active consumer) leads; when it dies RabbitMQ hands
 *       the message to another within milliseconds;
 *   <li>runs: each run's task id is derived from (schedule name, scheduled time), and the task
 *       message reaches {@link LovageTopology#SCHEDULE_RUNS_STREAM} in the same publish that puts
 *       it in its queue. A new leader first reads that stream to its end, so it continues exactly
 *       after the last run sent: no run twice, none missed.
 * </ul>
 *
 * <pre>{@code
 * Scheduler scheduler = new Scheduler(broker, client, Clock.systemUTC()).start(true);
 * scheduler.put(Schedule.of("tick", "demo.add", Schedule.When.every(60))).join();
 * }</pre>
 */
public final class Scheduler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Scheduler.class);

  /** Runs due longer ago than this were missed (no scheduler ran): {@link CatchUp} decides. */
  public static final Duration MISFIRE_GRACE = Duration.ofSeconds(60);

  /** The most missed runs {@link CatchUp#ALL} sends for one schedule. */
  public static final int MAX_CATCH_UP = 100;

  /** Runs of each schedule kept for {@link #runs}. */
  public static final int RECENT_RUNS = 20;

  /** Headers a run carries: its schedule's name and its scheduled time. */
  public static final String SCHEDULE_HEADER = "lovage_schedule";

  public static final String SCHEDULED_HEADER = "lovage_scheduled";

  static final Duration TICK = Duration.ofMillis(100);

  /** How long a round of runs may wait for RabbitMQ's confirms before the stream is re-read. */
  static final Duration CONFIRM_WITHIN = Duration.ofSeconds(10);

  static final Duration LEASE_REFRESH = Duration.ofSeconds(10);
  static final Duration SNAPSHOT_EVERY = Duration.ofHours(1);

  /** One run of a schedule: when it was due, its task id, and when it was sent. */
  public record Run(String schedule, Instant scheduled, String taskId, Instant sent) {}

  /**
   * A schedule's next run as computed from {@code from} (its last run, or when it was defined) by
   * {@code trigger}: kept until either changes, so a tick does not compute every schedule's next
   * run (a crontab's is a search) ten times a second.
   */
  private record Next(Trigger trigger, Instant from, Optional<Instant> at) {}

  private final Broker broker;
  private final TaskClient client;
  private final Clock clock;
  private final Map<String, Schedule> schedules = new TreeMap<>();
  private final Map<String, Instant> definedAt = new java.util.HashMap<>();
  private final Map<String, Instant> lastRun = new java.util.HashMap<>();
  private final Map<String, Trigger> triggers = new java.util.HashMap<>();
  private final Map<String, Next> next = new java.util.HashMap<>();
  private final Map<String, Deque<Run>> recent = new java.util.HashMap<>();
  private final List<Consumer<Run>> runListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();
  private final RecordStream definitions;
  private final AtomicLong leaderChanges = new AtomicLong();
  private final AtomicLong runsSent = new AtomicLong();
  private final ScheduledExecutorService ticker =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("lovage-scheduler").daemon().factory());
  private final List<Subscription> subscriptions = new ArrayList<>();
  private volatile Delivery lease;
  private volatile boolean leading;
  private volatile boolean resyncing;
  private CatchUpMarker runsRead;
  private Instant lastSnapshot = Instant.EPOCH;

  public Scheduler(Broker broker, TaskClient client, Clock clock) {
    this.broker = broker;
    this.client = client;
    this.clock = clock;
    this.definitions = new RecordStream(broker, LovageTopology.SCHEDULE_STREAM, "schedules");
  }

  /**
   * Reads the schedules and runs, and with {@code compete} takes part in the election: this replica
   * leads when it holds the lease.
   */
  public Scheduler start(boolean compete) {
    broker.declare(LovageTopology.schedules());
    definitions.follow(this::onDefinition);
    subscriptions.add(
        broker.consume(
            LovageTopology.SCHEDULE_RUNS_STREAM,
            ConsumeOptions.prefetch(500).withArgument("x-stream-offset", "first"),
            this::onRun));
    if (compete) {
      subscriptions.add(
          broker.consume(
              LovageTopology.SCHEDULER_QUEUE, ConsumeOptions.prefetch(1), this::onLease));
      offerLease();
      ticker.scheduleWithFixedDelay(
          this::offerLease,
          LEASE_REFRESH.toMillis(),
          LEASE_REFRESH.toMillis(),
          TimeUnit.MILLISECONDS);
      ticker.scheduleWithFixedDelay(
          this::tick, TICK.toMillis(), TICK.toMillis(), TimeUnit.MILLISECONDS);
    }
    return this;
  }

  /**
   * Puts a lease message in the queue if it has none ready: the queue refuses a second ready one,
   * so every replica may offer it. (A quorum queue counts ready messages only, so besides the one
   * the leader holds a second may wait; with prefetch 1 the single active consumer never gets it
   * while it holds the first, and whoever leads next takes either.)
   */
  private void offerLease() {
    byte[] body = Json.MAPPER.writeValueAsBytes(Map.of("lease", "lovage scheduler"));
    broker
        .publish("", LovageTopology.SCHEDULER_QUEUE, Message.json(body, Map.of()))
        .exceptionally(refusedWhenOneIsThere -> null);
  }

  private void onLease(Delivery delivery) {
    Delivery held = lease;
    if (held != null && held.held()) {
      delivery.requeue(); // a second lease: one is enough
      return;
    }
    lease = delivery;
    log.info("scheduler lease received, catching up on runs before leading");
  }

  /** Whether this replica leads: it holds the lease and has read every run sent before. */
  public boolean isLeader() {
    return leading;
  }

  /** How often this replica became leader. */
  public long leaderChanges() {
    return leaderChanges.get();
  }

  /** Runs this replica sent as leader (and on request). */
  public long runsSent() {
    return runsSent.get();
  }

  /** Called with each run this replica sends. */
  public void onRun(Consumer<Run> listener) {
    runListeners.add(listener);
  }

  /** Whether the definitions in the stream when this replica started have been read. */
  public boolean caughtUp() {
    return definitions.caughtUp();
  }

  private void tick() {
    try {
      Delivery held = lease;
      if (held == null || !held.held()) {
        if (leading) {
          log.warn("scheduler lease lost, no longer leading");
        }
        leading = false;
        resyncing = false;
        lease = null;
        runsRead = null;
        return;
      }
      if (!leading) {
        if (!takeOver()) {
          return;
        }
      }
      fireDue();
      if (Duration.between(lastSnapshot, clock.instant()).compareTo(SNAPSHOT_EVERY) > 0) {
        snapshot();
      }
    } catch (RuntimeException e) {
      log.error("scheduler tick failed error={}", e.toString(), e);
    }
  }

  /**
   * Becomes leader once the definitions are read and the runs stream is read to the end as of now:
   * appends a marker to it and waits to read it back.
   */
  private boolean takeOver() {
    if (!definitions.caughtUp()) {
      return false;
    }
    if (runsRead == null) {
      runsRead = new CatchUpMarker();
      CatchUpMarker marker = runsRead;
      marker
          .append(broker, LovageTopology.SCHEDULE_RUNS_STREAM)
          .exceptionally(
              error -> {
                log.warn("cannot mark the runs stream error={}", error.toString());
                runsRead = null;
                return null;
              });
      return false;
    }
    if (!runsRead.caughtUp()) {
      return false;
    }
    leading = true;
    if (resyncing) {
      resyncing = false;
      log.info("scheduler runs stream read again, sending");
      return true;
    }
    leaderChanges.incrementAndGet();
    lastSnapshot = Instant.EPOCH;
    log.info("scheduler leading schedules={}", schedules().size());
    return true;
  }

  /** Stops sending until the runs stream is read to its end again (see {@link #takeOver}). */
  private void resync() {
    resyncing = true;
    leading = false;
    runsRead = null;
  }

  /**
   * Sends every run due now. The schedules' runs go out together, each waiting only for the run
   * before it of the same schedule (so a schedule's last run sent is always its latest confirmed):
   * 1,000 schedules due in the same second wait for one round of confirms, not for 1,000 in turn.
   */
  private void fireDue() {
    Instant now = clock.instant();
    Delivery held = lease;
    List<CompletableFuture<?>> sending = new ArrayList<>();
    for (Schedule schedule : schedules()) {
      if (!schedule.enabled() || !leading) {
        continue;
      }
      if (!dueBy(schedule.name(), now)) {
        continue;
      }
      CompletableFuture<?> previous = null;
      for (Instant due : dueRuns(schedule, now)) {
        previous =
            previous == null
                ? sendIfHeld(held, schedule, due)
                : previous.thenCompose(sent -> sendIfHeld(held, schedule, due));
      }
      if (previous != null) {
        sending.add(previous);
      }
    }
    if (sending.isEmpty()) {
      return;
    }
    try {
      CompletableFuture.allOf(sending.toArray(CompletableFuture[]::new))
          .get(CONFIRM_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      if (!held.held()) {
        // The lease went during the round: the next tick stops leading, and says so.
        log.info("scheduled runs of this round stopped: the scheduler lease was lost");
      } else {
        log.warn(
            "scheduled runs not confirmed, reading the runs stream before sending more error={}",
            e.toString());
      }
      // A publish may have reached RabbitMQ all the same: resending now could put the same run
      // in its queue twice. Read the runs stream to its end first, as a new leader does; a run
      // is sent again only if it is not there.
      resync();
    }
  }

  /** Sends a run while this replica holds the lease: one that lost it sends nothing more. */
  private CompletableFuture<TaskMessage> sendIfHeld(Delivery held, Schedule schedule, Instant due) {
    if (!held.held()) {
      return CompletableFuture.failedFuture(new IllegalStateException("lease lost"));
    }
    return send(schedule, due);
  }

  /** Whether a schedule has a run due by {@code now}. */
  private synchronized boolean dueBy(String name, Instant now) {
    return next(name, now).filter(at -> !at.isAfter(now)).isPresent();
  }

  /** A schedule's next run after its last one (or its definition): empty if it has none. */
  private synchronized Optional<Instant> next(String name, Instant now) {
    Trigger trigger = triggers.get(name);
    if (trigger == null) {
      return Optional.empty();
    }
    Instant from = from(name, now);
    Next known = next.get(name);
    if (known == null || known.trigger() != trigger || !known.from().equals(from)) {
      known = new Next(trigger, from, trigger.next(from));
      next.put(name, known);
    }
    return known.at();
  }

  /** Where a schedule's next run is counted from: its last run, or when it was defined. */
  private synchronized Instant from(String name, Instant now) {
    return lastRun.getOrDefault(name, definedAt.getOrDefault(name, now));
  }

  /** The runs of a schedule to send now, after its last run, by its catch-up policy. */
  List<Instant> dueRuns(Schedule schedule, Instant now) {
    Instant from;
    Trigger known;
    synchronized (this) {
      from = from(schedule.name(), now);
      known = triggers.get(schedule.name());
    }
    Trigger trigger = known != null ? known : schedule.trigger();
    List<Instant> missed = new ArrayList<>();
    List<Instant> due = new ArrayList<>();
    Instant cursor = from;
    Instant missedBefore = now.minus(MISFIRE_GRACE);
    while (true) {
      Optional<Instant> next = trigger.next(cursor);
      if (next.isEmpty() || next.get().isAfter(now)) {
        break;
      }
      cursor = next.get();
      if (cursor.isBefore(missedBefore)) {
        missed.add(cursor);
        if (missed.size() > MAX_CATCH_UP) {
          missed.removeFirst();
        }
      } else {
        due.add(cursor);
      }
    }
    List<Instant> out = new ArrayList<>();
    if (!missed.isEmpty()) {
      switch (schedule.catchUp()) {
        case ONCE -> {
          if (due.isEmpty()) {
            out.add(missed.getLast()); // a run due now makes up for the missed ones
          }
        }
        case ALL -> out.addAll(missed);
        case SKIP -> {}
      }
      if (out.isEmpty() && due.isEmpty()) {
        // Nothing to send, but the missed runs are behind us for good.
        synchronized (this) {
          lastRun.put(schedule.name(), missed.getLast());
        }
      }
    }
    out.addAll(due);
    return out;
  }

  /** The task id of a schedule's run at {@code scheduled}: the same in every replica. */
  public static String runId(String schedule, Instant scheduled) {
    return UUID.nameUUIDFromBytes(
            ("lovage.schedule/" + schedule + "/" + scheduled.toEpochMilli())
                .getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  /** The task message of a schedule's run at {@code scheduled}. */
  private static TaskMessage.Builder run(Schedule schedule, Instant scheduled) {
    String id = runId(schedule.name(), scheduled);
    TaskMessage.Builder message =
        schedule.workflow() == null
            ? TaskMessage.builder(schedule.task())
                .id(id)
                .args(schedule.args())
                .kwargs(schedule.kwargs())
            : CanvasSender.start(schedule.workflow(), id, scheduled)
                .orElseThrow(() -> new Schedule.Invalid("workflow", "must start with one task"));
    message.header(SCHEDULE_HEADER, schedule.name()).header(SCHEDULED_HEADER, scheduled.toString());
    if (schedule.expires() != null) {
      message.expires(scheduled.plus(schedule.expires()));
    }
    return message;
  }

  private CompletableFuture<TaskMessage> send(Schedule schedule, Instant scheduled) {
    TaskMessage.Builder message =
        run(schedule, scheduled)
            // RabbitMQ routes the same message to the runs stream too, and drops this header.
            .header("BCC", List.of(LovageTopology.SCHEDULE_RUNS_STREAM));
    return client
        .send(message.build(), schedule.queue())
        .thenApply(
            sent -> {
              Run run = new Run(schedule.name(), scheduled, sent.id(), clock.instant());
              ran(run);
              runsSent.incrementAndGet();
              runListeners.forEach(listener -> listener.accept(run));
              return sent;
            });
  }

  /**
   * Sends a run of a schedule now, whoever leads (an operator's "run now"); it does not move the
   * schedule's next run.
   */
  public CompletableFuture<TaskMessage> runNow(String name) {
    Schedule schedule = find(name).orElse(null);
    if (schedule == null) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("no schedule " + name));
    }
    Instant now = clock.instant();
    return client
        .send(run(schedule, now).header("manual", true).build(), schedule.queue())
        .thenApply(
            sent -> {
              runsSent.incrementAndGet();
              remember(new Run(name, now, sent.id(), clock.instant()));
              return sent;
            });
  }

  /** Adds or replaces a schedule; completes once RabbitMQ has the definition. */
  public CompletableFuture<Void> put(Schedule schedule) {
    ObjectNode record = Json.MAPPER.createObjectNode();
    record.put("type", "schedule");
    record.put("at", clock.instant().toString());
    record.set("schedule", schedule.toJson());
    return append(record).thenRun(() -> define(schedule, clock.instant()));
  }

  /** Removes a schedule; completes once RabbitMQ has the deletion. */
  public CompletableFuture<Void> delete(String name) {
    ObjectNode record = Json.MAPPER.createObjectNode();
    record.put("type", "schedule-deleted");
    record.put("at", clock.instant().toString());
    record.put("name", name);
    return append(record).thenRun(() -> forget(name));
  }

  private CompletableFuture<Void> append(ObjectNode record) {
    return definitions.append(record);
  }

  /** Records the last run of every schedule, so it outlives the runs stream's retention. */
  private void snapshot() {
    ObjectNode record = Json.MAPPER.createObjectNode();
    record.put("type", "schedule-runs");
    record.put("at", clock.instant().toString());
    ObjectNode last = record.putObject("lastRuns");
    synchronized (this) {
      lastRun.forEach((name, at) -> last.put(name, at.toString()));
    }
    lastSnapshot = clock.instant();
    append(record)
        .exceptionally(
            error -> {
              lastSnapshot = Instant.EPOCH;
              return null;
            });
  }

  public synchronized List<Schedule> schedules() {
    return List.copyOf(schedules.values());
  }

  public synchronized Optional<Schedule> find(String name) {
    return Optional.ofNullable(schedules.get(name));
  }

  /** When a schedule last ran, as far as this replica has read. */
  public synchronized Optional<Instant> lastRun(String name) {
    return Optional.ofNullable(lastRun.get(name));
  }

  /** When a schedule runs next: empty when disabled or when it will not run again. */
  public synchronized Optional<Instant> nextRun(String name) {
    Schedule schedule = schedules.get(name);
    if (schedule == null || !schedule.enabled()) {
      return Optional.empty();
    }
    return next(name, clock.instant());
  }

  /** The latest runs of a schedule, newest first. */
  public synchronized List<Run> runs(String name) {
    Deque<Run> runs = recent.get(name);
    return runs == null ? List.of() : List.copyOf(runs);
  }

  private synchronized void define(Schedule schedule, Instant at) {
    Schedule before = schedules.put(schedule.name(), schedule);
    if (before == null || !before.when().equals(schedule.when())) {
      definedAt.put(schedule.name(), at);
      triggers.put(schedule.name(), schedule.trigger());
    }
  }

  private synchronized void forget(String name) {
    schedules.remove(name);
    definedAt.remove(name);
    triggers.remove(name);
    next.remove(name);
  }

  private synchronized void ran(Run run) {
    Instant last = lastRun.get(run.schedule());
    if (last == null || run.scheduled().isAfter(last)) {
      lastRun.put(run.schedule(), run.scheduled());
    }
    remember(run);
  }

  private synchronized void remember(Run run) {
    Deque<Run> runs = recent.computeIfAbsent(run.schedule(), n -> new ArrayDeque<>());
    if (runs.stream().anyMatch(r -> r.taskId().equals(run.taskId()))) {
      return;
    }
    runs.addFirst(run);
    while (runs.size() > RECENT_RUNS) {
      runs.removeLast();
    }
  }

  private void onDefinition(JsonNode record) {
    Instant at = Instant.parse(record.path("at").asString(Instant.EPOCH.toString()));
    switch (record.path("type").asString("")) {
      case "schedule" -> define(Schedule.fromJson(record.path("schedule")), at);
      case "schedule-deleted" -> forget(record.path("name").asString(""));
      case "schedule-runs" -> {
        synchronized (this) {
          record
              .path("lastRuns")
              .properties()
              .forEach(
                  entry -> {
                    Instant when = Instant.parse(entry.getValue().asString());
                    lastRun.merge(entry.getKey(), when, (a, b) -> a.isAfter(b) ? a : b);
                  });
        }
      }
      default -> log.debug("skipping a schedules record of another kind");
    }
  }

  private void onRun(Delivery delivery) {
    try {
      Map<String, Object> headers = delivery.message().headers();
      if (headers.get(SCHEDULE_HEADER) instanceof String name
          && headers.get(SCHEDULED_HEADER) instanceof String scheduled
          && headers.get("id") instanceof String id) {
        Instant sent =
            headers.get("x-stream-timestamp") instanceof Number millis
                ? Instant.ofEpochMilli(millis.longValue())
                : Instant.parse(scheduled);
        ran(new Run(name, Instant.parse(scheduled), id, sent));
        return;
      }
      CatchUpMarker marker = runsRead;
      if (marker != null && delivery.message().body().length > 0) {
        JsonNode body = Json.MAPPER.readTree(delivery.message().body());
        if (body.isObject()) {
          marker.isMarker(body);
        }
      }
    } catch (JacksonException | java.time.DateTimeException e) {
      log.debug("skipping a runs entry error={}", e.getMessage());
    } finally {
      delivery.ack();
    }
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    definitions.close();
    subscriptions.forEach(Subscription::close);
    Delivery held = lease;
    if (held != null && held.held()) {
      held.requeue(); // hand over at once instead of when the connection closes
    }
    leading = false;
  }
}
