package io.lovage.worker;

import io.lovage.TaskError;
import io.lovage.TaskRegistry;
import io.lovage.TaskRegistry.TaskDefinition;
import io.lovage.broker.Broker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delays;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.Subscription;
import io.lovage.broker.TaskQueues;
import io.lovage.protocol.Json;
import io.lovage.protocol.MalformedMessageException;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import io.lovage.result.RpcReplies;
import io.lovage.result.TaskEvents;
import io.lovage.worker.DeadLetters.DeadLetter;
import io.lovage.workflow.CanvasSender;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Consumes task queues and runs their tasks.
 *
 * <p>Each delivery is decoded, run on a virtual thread, its outcome published as a task event, and
 * only after the broker confirmed that event is the message acknowledged. A worker that dies before
 * that leaves the message unacknowledged, and RabbitMQ gives it to another worker. A message that
 * cannot run (not a task message, unknown task) goes to the dead-letter queue with the reason.
 *
 * <pre>{@code
 * try (Worker worker = new Worker(broker, tasks, WorkerSettings.of(List.of("celery"), 8))) {
 *   worker.start();
 *   ...
 * }
 * }</pre>
 */
public final class Worker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  /**
   * Deliveries of one message after which the worker dead-letters it instead of running it again;
   * the quorum queue's delivery limit ({@link LovageTopology#DELIVERY_LIMIT}) is the backstop.
   */
  public static final int POISON_DELIVERIES = 5;

  private static final int DEAD_LETTER_PREFETCH = 10;

  /** How often the worker says it is alive (Celery's default heartbeat frequency). */
  public static final Duration HEARTBEAT = Duration.ofSeconds(2);

  /**
   * How long a task runs before its task-received and task-started events are sent; a task over
   * sooner reports its start in its outcome event instead ({@link StartEvents}).
   */
  public static final Duration START_EVENTS_AFTER = Duration.ofMillis(100);

  /** How long a starting worker waits to know every earlier revocation before it consumes. */
  static final Duration REVOCATIONS_CATCH_UP = Duration.ofSeconds(15);

  private final java.util.concurrent.ScheduledExecutorService heartbeat =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("lovage-heartbeat").daemon(true).factory());

  /**
   * How long a worker waits before each new try to record an outcome the broker did not confirm
   * (its connection closed or the publish timed out). After the last, the task is requeued.
   */
  static final List<Duration> RECORD_RETRY_DELAYS =
      List.of(
          Duration.ofMillis(250),
          Duration.ofMillis(500),
          Duration.ofSeconds(1),
          Duration.ofSeconds(2),
          Duration.ofSeconds(4),
          Duration.ofSeconds(8));

  /** A task due within this long waits in the worker; a later one goes to the delay ladder. */
  static final Duration HOLD_AT_MOST = Duration.ofSeconds(1);

  private final Broker broker;
  private final io.lovage.unique.UniqueLocks uniqueLocks;
  private final Clock clock;
  private final TaskRegistry tasks;
  private final WorkerSettings settings;
  private final TaskEvents events;
  private final DeadLetters deadLetters;
  private final Semaphore slots;
  private final Pools pools;
  private final WorkerObserver observer;
  private final Callbacks callbacks;
  private final Chains chains;
  private final CanvasSender canvases;
  private final ChordJoiner joiner;
  private final Revocations revocations = new Revocations(this::terminate);
  private final TimeLimitOverrides timeLimitOverrides = new TimeLimitOverrides();
  private final RateLimiter rateLimiter;
  private final FleetTokens fleetTokens;
  private final ConcurrencyLimiter concurrencyLimiter;

  /**
   * Each task's own rate limit (registered, or the settings'): what a deleted book limit restores.
   */
  private final Map<String, io.lovage.RateLimit> ownRateLimits;

  /** Each task's own concurrency limit: what a deleted book limit restores. */
  private final Map<String, io.lovage.ConcurrencyLimit> ownConcurrencyLimits;

  /** Run-time limits set fleet-wide (over REST): they take the place of the task's own. */
  private final io.lovage.limits.LimitBook limitBook;

  /**
   * How to terminate each running task, by task id (revocation with terminate): interrupt its
   * thread, or kill its child process.
   */
  private final Map<String, Runnable> running = new ConcurrentHashMap<>();

  /** A task running here, as remote control ({@code celery inspect active}) shows it. */
  record Active(TaskMessage message, String queue, Instant started) {}

  private final Map<String, Active> active = new ConcurrentHashMap<>();
  private final Map<String, java.util.concurrent.atomic.LongAdder> processedByTask =
      new ConcurrentHashMap<>();
  private final Pidbox pidbox;

  private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
  private final List<Subscription> subscriptions = new ArrayList<>();

  /** The task queues consumed now, with their consumers: those of the settings, and added ones. */
  private final Map<String, List<Subscription>> consuming =
      java.util.Collections.synchronizedMap(new java.util.LinkedHashMap<>());

  /** The prefetch each task queue is consumed with (its urgent lane's apart). */
  private final Map<String, Integer> prefetches = new ConcurrentHashMap<>();

  /** The task queues as this worker declares them, and where a task of some priority goes. */
  private final TaskQueues taskQueues;

  private final AtomicLong succeeded = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong retried = new AtomicLong();
  private volatile boolean closed;

  /** Deliveries that arrived after close() began, requeued once the consumers are gone. */
  private final List<Delivery> arrivedWhileClosing = new ArrayList<>();

  /** Set under {@link #arrivedWhileClosing}'s lock once close() has cancelled the consumers. */
  private boolean consumersStopped;

  private volatile boolean started;

  public Worker(Broker broker, TaskRegistry tasks, WorkerSettings settings) {
    this(broker, tasks, settings, Clock.systemUTC());
  }

  public Worker(Broker broker, TaskRegistry tasks, WorkerSettings settings, Clock clock) {
    this(broker, tasks, settings, clock, WorkerObserver.NONE);
  }

  public Worker(
      Broker broker,
      TaskRegistry tasks,
      WorkerSettings settings,
      Clock clock,
      WorkerObserver observer) {
    this.observer = observer;
    this.broker = broker;
    this.uniqueLocks = new io.lovage.unique.UniqueLocks(broker);
    this.clock = clock;
    // Celery's built-in tasks (celery.starmap, celery.map, ...) beside the user's.
    this.tasks = Builtins.addTo(tasks);
    this.settings = settings;
    this.taskQueues = new TaskQueues(broker, settings.queueType());
    this.events = new TaskEvents(broker, settings.name(), clock);
    this.deadLetters = new DeadLetters(broker, settings.name(), clock);
    this.slots = new Semaphore(settings.capacity());
    io.lovage.TaskClient client =
        new io.lovage.TaskClient(
            broker, settings.name(), settings.queueType(), clock, settings.security());
    this.callbacks = new Callbacks(client);
    this.canvases = new CanvasSender(broker, client, events, clock);
    this.chains = new Chains(canvases);
    this.joiner = new ChordJoiner(broker, canvases);
    this.pidbox = new Pidbox(broker, this, events, clock);
    this.pools = new Pools(settings, tasks);
    RateLimiter.Timer timer =
        (delay, action) -> {
          var wake = heartbeat.schedule(action, delay.toNanos(), TimeUnit.NANOSECONDS);
          return () -> wake.cancel(false);
        };
    this.ownConcurrencyLimits = Map.copyOf(concurrencyLimits(this.tasks, settings));
    this.concurrencyLimiter =
        new ConcurrencyLimiter(
            ownConcurrencyLimits,
            new Permits(broker)::take,
            this::dispatch,
            pool,
            timer,
            settings.security());
    this.ownRateLimits = Map.copyOf(rateLimits(this.tasks, settings));
    this.limitBook = new io.lovage.limits.LimitBook(broker, clock);
    this.fleetTokens = new FleetTokens(broker, pool, System::nanoTime);
    // Limits are set when the worker starts: a global one consumes its tokens from then on.
    this.rateLimiter =
        new RateLimiter(
            Map.of(), concurrencyLimiter::admit, pool, timer, System::nanoTime, fleetTokens::open);
  }

  /**
   * Each task's concurrency limit across all workers: the one it was registered with, or the
   * settings' in its place (its key found by position too when the registered limit has that key).
   */
  private static Map<String, io.lovage.ConcurrencyLimit> concurrencyLimits(
      TaskRegistry tasks, WorkerSettings settings) {
    Map<String, io.lovage.ConcurrencyLimit> limits = new java.util.LinkedHashMap<>();
    for (String name : tasks.names()) {
      limits.put(name, tasks.find(name).orElseThrow().options().concurrency());
    }
    settings
        .concurrencyLimits()
        .forEach(
            (name, limit) -> {
              io.lovage.ConcurrencyLimit registered = limits.get(name);
              if (registered == null) {
                log.warn("concurrency limit set for a task this worker does not run task={}", name);
              } else if (registered.key().equals(limit.key())) {
                limit = limit.atPosition(registered.position());
              }
              limits.put(name, limit);
            });
    limits.values().removeIf(limit -> !limit.isLimited());
    return limits;
  }

  /** Each task's rate limit: the one it was registered with, or the settings' in its place. */
  private static Map<String, io.lovage.RateLimit> rateLimits(
      TaskRegistry tasks, WorkerSettings settings) {
    Map<String, io.lovage.RateLimit> limits = new java.util.LinkedHashMap<>();
    for (String name : tasks.names()) {
      io.lovage.RateLimit registered = tasks.find(name).orElseThrow().options().rateLimit();
      if (registered.isLimited()) {
        limits.put(name, registered);
      }
    }
    settings
        .rateLimits()
        .forEach(
            (name, limit) -> {
              if (tasks.find(name).isEmpty()) {
                log.warn("rate limit set for a task this worker does not run task={}", name);
              }
              limits.put(name, limit);
            });
    return limits;
  }

  /**
   * Declares the queues and starts consuming them. A worker that cannot start (its process pool,
   * the broker) is closed before the error is thrown: it leaves no child process or subscription.
   */
  public synchronized void start() {
    try {
      // The task queues are declared by taskQueues, with their urgent lanes where they need some.
      broker.declare(LovageTopology.forQueues(List.of(), settings.queueType()));
      revocations.follow(broker, REVOCATIONS_CATCH_UP);
      ownRateLimits.forEach(this::setRateLimit);
      followLimits();
      joiner.start();
      // Child processes start before any task is consumed: a pool that cannot start fails here.
      pools.open();
      events.worker("online", HEARTBEAT.toMillis() / 1000.0, 0, 0);
      heartbeat.scheduleAtFixedRate(
          this::heartbeat, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(), TimeUnit.MILLISECONDS);
      for (WorkerSettings.WeightedQueue weighted : settings.queues()) {
        consume(weighted, settings.queues());
      }
      pidbox.start();
      started = true;
      log.info(
          "worker started name={} queues={} io_concurrency={} cpu_concurrency={}"
              + " process_children={}..{} process_kinds={} tasks={} security=\"{}\"",
          settings.name(),
          settings.queues(),
          settings.ioConcurrency(),
          settings.cpuConcurrency(),
          settings.processes().min(),
          settings.processes().max(),
          settings.processes().kinds(),
          tasks.names(),
          settings.security().describe());
      if (settings.security().trusted().isPresent() && settings.security().signer().isEmpty()) {
        log.warn(
            "this worker runs signed messages only but has no key to sign with: the retries, chain"
                + " steps and callbacks it sends are unsigned, and workers that require signatures"
                + " dead-letter them; set LOVAGE_SECURITY_KEY and LOVAGE_SECURITY_CERTIFICATE");
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  /**
   * Reads the fleet-wide limits before the first task is consumed (waiting at most {@link
   * #REVOCATIONS_CATCH_UP}), and applies every change from then on.
   */
  private void followLimits() {
    limitBook.onChange(this::limitsChanged).follow();
    try {
      if (!limitBook.awaitCaughtUp(REVOCATIONS_CATCH_UP)) {
        log.warn(
            "task limits not read to the end within {} ms; tasks run at their own limits until"
                + " they are name={}",
            REVOCATIONS_CATCH_UP.toMillis(),
            settings.name());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A task's limits in the book changed: its rate and concurrency there, or, once it has none
   * there, its own. This also ends a rate set on this worker alone by remote control (Celery's
   * {@code rate_limit}).
   */
  private void limitsChanged(String task, Optional<io.lovage.limits.TaskLimits> limits) {
    if (tasks.find(task).isEmpty()) {
      return;
    }
    io.lovage.ConcurrencyLimit own =
        ownConcurrencyLimits.getOrDefault(task, io.lovage.ConcurrencyLimit.NONE);
    io.lovage.ConcurrencyLimit concurrency =
        limits
            .flatMap(io.lovage.limits.TaskLimits::concurrencyLimit)
            .map(limit -> limit.key().equals(own.key()) ? limit.atPosition(own.position()) : limit)
            .orElse(own);
    if (!concurrency.equals(concurrencyLimiter.limitOf(task))) {
      concurrencyLimiter.set(task, concurrency);
      log.info(
          "concurrency limit set from the task limits name={} task={} concurrency={}",
          settings.name(),
          task,
          concurrency);
    }
    io.lovage.RateLimit rate =
        limits
            .flatMap(io.lovage.limits.TaskLimits::rateLimit)
            .orElse(ownRateLimits.getOrDefault(task, io.lovage.RateLimit.NONE));
    // A change of the concurrency alone leaves the rate's lane as it is: a global rate's token
    // consumer is not closed and opened again.
    if (!rate.equals(rateLimiter.limitOf(task))) {
      setRateLimit(task, rate);
      log.info(
          "rate limit set from the task limits name={} task={} rate_limit={}",
          settings.name(),
          task,
          rate);
    }
  }

  private void setRateLimit(String task, io.lovage.RateLimit limit) {
    rateLimiter.set(task, limit);
    if (limit.isGlobal()) {
      observer.sharesGlobalRate(task);
    }
  }

  /**
   * The tokens waiting in the queue of a task's global rate limit, as this worker last saw them;
   * empty if this worker does not share such a limit for the task.
   */
  public java.util.OptionalLong fleetTokensReady(String task) {
    return rateLimiter.fleetTokensReady(task);
  }

  /**
   * Consumes a task queue with its share of the prefetch among {@code consumed}, what RabbitMQ
   * dead-letters from it, and its urgent lane if it has one. The lane's prefetch is as large as the
   * queue's and comes on top of it: the queue keeps its whole share (the lane takes nothing from it
   * while it is empty), and an urgent task beyond the free slots waits for the next one, which it
   * gets before the queue's next task, that RabbitMQ sends only once a task of it was settled.
   */
  private void consume(
      WorkerSettings.WeightedQueue weighted, List<WorkerSettings.WeightedQueue> consumed) {
    String queue = weighted.name();
    int prefetch = settings.prefetch(weighted, consumed);
    List<Subscription> consumers = new ArrayList<>();
    // The lane first: urgent tasks waiting when the worker starts are taken before the others.
    taskQueues
        .declare(queue)
        .ifPresent(
            lane ->
                consumers.add(
                    broker.consume(
                        lane,
                        ConsumeOptions.prefetch(prefetch),
                        delivery -> accept(new FromUrgentLane(delivery, queue)))));
    prefetches.put(queue, prefetch);
    consumers.add(broker.consume(queue, ConsumeOptions.prefetch(prefetch), this::accept));
    consumers.add(
        broker.consume(
            LovageTopology.brokerDeadLetterQueue(queue),
            ConsumeOptions.prefetch(DEAD_LETTER_PREFETCH),
            delivery -> deadLetters.moveFromBroker(delivery, queue)));
    consuming.put(queue, List.copyOf(consumers));
  }

  /**
   * Starts consuming one more task queue (Celery's {@code add_consumer}), declared as this worker
   * declares its own, with the prefetch of a queue of weight 1 beside them; false if it consumes it
   * already.
   */
  synchronized boolean addConsumer(String queue) {
    if (closed || consuming.containsKey(queue)) {
      return false;
    }
    WorkerSettings.WeightedQueue added = new WorkerSettings.WeightedQueue(queue, 1);
    List<WorkerSettings.WeightedQueue> consumed = new ArrayList<>(settings.queues());
    consumed.add(added);
    consume(added, consumed);
    log.info("consumer added by remote control queue={}", queue);
    return true;
  }

  /**
   * Stops consuming a task queue (Celery's {@code cancel_consumer}); tasks already received still
   * run. False if it did not consume it.
   */
  synchronized boolean cancelConsumer(String queue) {
    List<Subscription> consumers = consuming.remove(queue);
    if (consumers == null) {
      return false;
    }
    consumers.forEach(Subscription::close);
    log.info("consumer cancelled by remote control queue={}", queue);
    return true;
  }

  /**
   * The prefetch this worker consumes a task queue with, its urgent lane's apart (see {@link
   * TaskQueues}); 0 before it does.
   */
  public int prefetch(String queue) {
    return prefetches.getOrDefault(queue, 0);
  }

  /** The task queues this worker consumes now. */
  List<String> consumedQueues() {
    synchronized (consuming) {
      return List.copyOf(consuming.keySet());
    }
  }

  /** Whether the worker consumes its queues: {@link #start()} has finished and it is not closed. */
  public boolean isConsuming() {
    return started && !closed;
  }

  private void accept(Delivery delivery) {
    // A task over its rate limit waits in the rate limiter, then one over its concurrency limit
    // waits for a permit, both unacknowledged and without a slot; every other delivery goes
    // straight on to dispatch, on this thread.
    rateLimiter.admit(delivery);
  }

  /** Runs a delivery the rate limiter let through: on the consumer's thread, or on its own. */
  private void dispatch(Delivery delivery) {
    if (closed) {
      synchronized (arrivedWhileClosing) {
        if (!consumersStopped) {
          // Requeued now, it would come straight back to this worker's consumer, still there
          // for a moment: each such bounce counts as a delivery, and six make a poison message.
          arrivedWhileClosing.add(delivery);
          return;
        }
      }
      settle(delivery, Settlement.REQUEUE);
      return;
    }
    // Prefetch bounds each queue; the slots bound all queues together. A slot is held until the
    // delivery is settled, so close() can wait for every acknowledgement, not only every task.
    slots.acquireUninterruptibly();
    pool.execute(
        () -> {
          CompletableFuture<Settlement> decided;
          try {
            decided = handle(delivery);
          } catch (RuntimeException e) {
            decided = CompletableFuture.failedFuture(e);
          }
          decided
              .exceptionally(
                  error -> {
                    log.error(
                        "unexpected error, requeueing queue={}", delivery.queue(), cause(error));
                    return Settlement.REQUEUE;
                  })
              .thenCompose(settlement -> settle(delivery, settlement))
              .whenComplete((ok, error) -> slots.release());
        });
  }

  /**
   * The one place a delivery is settled: exactly one acknowledgement, requeue or dead letter. The
   * future completes once that is done (a dead letter once the broker confirmed it).
   */
  private CompletableFuture<Void> settle(Delivery delivery, Settlement settlement) {
    return switch (settlement) {
      case Settlement.Acknowledge a -> {
        delivery.ack();
        yield CompletableFuture.completedFuture(null);
      }
      case Settlement.Requeue r -> {
        delivery.requeue();
        yield CompletableFuture.completedFuture(null);
      }
      case Settlement.MoveToDeadLetters d -> deadLetters.send(delivery, d.letter());
    };
  }

  /**
   * Runs one delivery and decides its settlement; every check and outcome below answers one, none
   * settles the delivery itself.
   */
  private CompletableFuture<Settlement> handle(Delivery delivery) {
    TaskMessage message;
    try {
      // A signed message is verified before anything in its body is read.
      message = TaskMessageCodec.decode(settings.security().open(delivery.message()));
    } catch (MalformedMessageException e) {
      return reject(delivery, null, null, e.getMessage());
    }
    Optional<TaskDefinition> definition = tasks.find(message.task());
    if (definition.isEmpty()) {
      return reject(
          delivery, message.id(), message.task(), "unknown task '" + message.task() + "'");
    }
    if (revocations.isRevoked(message.id())) {
      log.info("task revoked, not run task_id={} task={}", message.id(), message.task());
      releaseUnique(message);
      return endWorkflow(message, () -> revokedInWorkflow(message, "revoked", delivery.queue()))
          .thenCompose(ok -> answerRevoked(message, "revoked"))
          .thenApply(ok -> Settlement.ACKNOWLEDGE);
    }
    if (delivery.deliveryCount() >= POISON_DELIVERIES) {
      return poison(delivery, message);
    }
    Instant now = clock.instant();
    if (message.expires() != null && !now.isBefore(message.expires())) {
      return expire(delivery, message);
    }
    if (message.eta() != null && message.eta().isAfter(now)) {
      Duration wait = Duration.between(now, message.eta());
      if (wait.compareTo(HOLD_AT_MOST) > 0) {
        return postpone(delivery, message, wait);
      }
      sleep(wait);
    }
    boolean recording = !message.ignoresResult();
    StartEvents start =
        recording
            ? new StartEvents(
                events, message, delivery.queue(), clock, heartbeat, START_EVENTS_AFTER)
            : null;
    observer.received(message.task());
    Outcome outcome =
        TaskRunner.run(
            timeLimitOverrides.applyTo(definition.get()),
            message,
            pools,
            terminate -> started(message, delivery.queue(), terminate, start),
            (done, total) -> {
              if (recording) {
                start.report();
                events.progress(message, done, total);
              }
            });
    // A failure is recorded also for a task that ignores its result: it names the task.
    TaskEvents.Start unreported =
        recording ? start.finish() : new TaskEvents.Start(delivery.queue(), now, null);
    log.info(
        "task {} task_id={} task={} runtime={}s",
        outcome.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT),
        message.id(),
        message.task(),
        outcome.runtime());
    running.remove(message.id());
    active.remove(message.id());
    outcome = limitResultSize(outcome);
    if (revocations.isRevoked(message.id()) && !(outcome instanceof Outcome.Success)) {
      // Terminated on request: its state is REVOKED already; no retry, no dead letter.
      log.info("task terminated by revocation task_id={} task={}", message.id(), message.task());
      releaseUnique(message);
      return endWorkflow(message, () -> revokedInWorkflow(message, "revoked", delivery.queue()))
          .thenCompose(ok -> answerRevoked(message, "revoked"))
          .thenApply(ok -> Settlement.ACKNOWLEDGE);
    }
    if (!(outcome instanceof Outcome.Abandoned)) {
      observer.finished(message.task(), outcomeName(outcome), outcome.runtime());
      processedByTask
          .computeIfAbsent(message.task(), name -> new java.util.concurrent.atomic.LongAdder())
          .increment();
    }
    if (outcome instanceof Outcome.Success || outcome instanceof Outcome.Failure) {
      releaseUnique(message);
    }
    return switch (outcome) {
      case Outcome.Success s -> succeed(delivery, message, s, unreported);
      case Outcome.Retry r -> retry(delivery, message, r, unreported);
      case Outcome.Failure f -> fail(delivery, message, f, unreported);
      case Outcome.Abandoned a -> abandon(message);
    };
  }

  /** Null, a boolean or a machine-sized number: far below any result limit, not measured. */
  private static boolean obviouslySmall(JsonNode result) {
    return result == null
        || result.isNull()
        || result.isBoolean()
        || result.isNumber() && !result.isBigInteger() && !result.isBigDecimal();
  }

  private Outcome limitResultSize(Outcome outcome) {
    if (outcome instanceof Outcome.Success s && !obviouslySmall(s.result())) {
      int size = Json.MAPPER.writeValueAsBytes(s.result()).length;
      if (size > settings.resultMaxBytes()) {
        return new Outcome.Failure(
            new TaskError(
                "ResultTooLarge",
                null,
                "result of "
                    + size
                    + " bytes is above the limit of "
                    + settings.resultMaxBytes()
                    + " bytes",
                null),
            s.runtime());
      }
    }
    return outcome;
  }

  private void heartbeat() {
    Stats stats = stats();
    events
        .worker(
            "heartbeat",
            HEARTBEAT.toMillis() / 1000.0,
            stats.active(),
            stats.succeeded() + stats.failed() + stats.retried())
        .exceptionally(error -> null);
  }

  /** Just before the task runs: on its own thread, or before it is sent to a child process. */
  private void started(TaskMessage message, String queue, Runnable terminate, StartEvents start) {
    running.put(message.id(), terminate);
    active.put(message.id(), new Active(message, queue, clock.instant()));
    if (revocations.isRevoked(message.id())) {
      throw new IllegalStateException("revoked before it started");
    }
    if (start != null) {
      start.started();
    }
  }

  /** A revocation with terminate: stops the task if it runs here. */
  private void terminate(String taskId) {
    Runnable terminate = running.get(taskId);
    if (terminate != null) {
      log.info("terminating revoked task task_id={}", taskId);
      terminate.run();
    }
  }

  private static String outcomeName(Outcome outcome) {
    return switch (outcome) {
      case Outcome.Success s -> "succeeded";
      case Outcome.Retry r -> "retried";
      case Outcome.Failure f -> "failed";
      case Outcome.Abandoned a -> "abandoned";
    };
  }

  private CompletableFuture<Settlement> succeed(
      Delivery delivery, TaskMessage message, Outcome.Success s, TaskEvents.Start unreported) {
    succeeded.incrementAndGet();
    CompletableFuture<Void> outcome =
        recorded(
            message,
            message.ignoresResult()
                ? CompletableFuture.completedFuture(null)
                : untilConfirmed(
                    message, () -> events.succeeded(message, s.result(), s.runtime(), unreported)),
            () -> RpcReplies.success(broker, message, s.result()));
    // What follows the task goes out beside its outcome, not after it: its link callbacks, its
    // chain's next step, its report to its chord. All of it is confirmed before the ack.
    CompletableFuture<Void> follows =
        CompletableFuture.allOf(
            attempt(() -> callbacks.afterSuccess(message, s.result(), delivery.queue())),
            attempt(() -> chains.afterSuccess(message, s.result(), delivery.queue())),
            attempt(() -> canvases.reportToChord(message, s.result(), null, delivery.queue())));
    return CompletableFuture.allOf(outcome, follows)
        .handle(
            (ok, error) -> {
              if (error == null) {
                return Settlement.ACKNOWLEDGE;
              }
              // Without its recorded outcome or its callbacks the task is not done: it runs
              // again (at least once).
              log.error(
                  "outcome not recorded or callbacks not sent, requeued task_id={} error={}",
                  message.id(),
                  cause(error).toString());
              return Settlement.REQUEUE;
            });
  }

  /**
   * A failure for good: recorded, answered, errbacks sent, then the message moves to the
   * dead-letter queue.
   */
  private CompletableFuture<Settlement> fail(
      Delivery delivery, TaskMessage message, Outcome.Failure f, TaskEvents.Start unreported) {
    failed.incrementAndGet();
    return recorded(
            message,
            untilConfirmed(
                message, () -> events.failed(message, f.error(), f.runtime(), unreported)),
            () -> RpcReplies.failure(broker, message, f.error()))
        .handle((ok, error) -> error)
        .thenCompose(
            unrecorded -> {
              if (unrecorded != null) {
                return requeueUnrecorded(message, unrecorded);
              }
              return callbacks
                  .afterFailure(message, delivery.queue())
                  .handle(
                      (ok, error) -> {
                        if (error != null) {
                          log.error(
                              "errbacks not sent task_id={} error={}",
                              message.id(),
                              error.toString());
                        }
                        return null;
                      })
                  .thenCompose(
                      ok ->
                          endWorkflow(
                              message,
                              () -> failedInWorkflow(message, f.error(), delivery.queue())))
                  .thenApply(
                      ok ->
                          Settlement.deadLetter(
                              new DeadLetter(
                                  "task failed: " + f.error().type() + ": " + f.error().message(),
                                  f.error(),
                                  message.retries() + 1L)));
            });
  }

  /**
   * Publishes an outcome event until the broker confirms it, trying again after each of {@link
   * #RECORD_RETRY_DELAYS} (a broker restart or a network cut outlasts one try); fails after the
   * last, or at once while the worker stops. A task whose outcome is not recorded is not done: the
   * caller requeues it rather than acknowledge it.
   */
  private CompletableFuture<Void> untilConfirmed(
      TaskMessage message, Supplier<CompletableFuture<Void>> event) {
    return untilConfirmed(message, event, 0);
  }

  private CompletableFuture<Void> untilConfirmed(
      TaskMessage message, Supplier<CompletableFuture<Void>> event, int tried) {
    return event
        .get()
        .handle((ok, error) -> error)
        .thenCompose(
            error -> {
              if (error == null) {
                return CompletableFuture.completedFuture(null);
              }
              if (closed || tried >= RECORD_RETRY_DELAYS.size()) {
                return CompletableFuture.failedFuture(error);
              }
              Duration delay = RECORD_RETRY_DELAYS.get(tried);
              // One warning per task in an outage, not one per try.
              log.atLevel(tried == 0 ? org.slf4j.event.Level.WARN : org.slf4j.event.Level.DEBUG)
                  .log(
                      "outcome not recorded, trying again in {} ms task_id={} error={}",
                      delay.toMillis(),
                      message.id(),
                      error.toString());
              return CompletableFuture.runAsync(
                      () -> {},
                      CompletableFuture.delayedExecutor(delay.toMillis(), TimeUnit.MILLISECONDS))
                  .thenComposeAsync(ok -> untilConfirmed(message, event, tried + 1), pool);
            });
  }

  /**
   * A workflow this task ends (it failed for good, was revoked or expired): the remaining steps of
   * its chain are recorded, and the chord it belongs to learns it failed; tried again as an outcome
   * is. If that still fails the task is settled anyway (it will not run again), with an error in
   * the log.
   */
  private CompletableFuture<Void> endWorkflow(
      TaskMessage message, Supplier<CompletableFuture<Void>> record) {
    if (Chains.rest(message).isEmpty() && !message.embed().path("chord").isObject()) {
      return CompletableFuture.completedFuture(null);
    }
    return untilConfirmed(message, record)
        .handle(
            (ok, error) -> {
              if (error != null) {
                log.error(
                    "remaining chain steps not recorded task_id={} error={}",
                    message.id(),
                    cause(error).toString());
              }
              return null;
            });
  }

  private CompletableFuture<Void> failedInWorkflow(
      TaskMessage message, TaskError error, String queue) {
    return CompletableFuture.allOf(
        chains.afterFailure(message, error), canvases.reportToChord(message, null, error, queue));
  }

  private CompletableFuture<Void> revokedInWorkflow(
      TaskMessage message, String reason, String queue) {
    TaskError error = new TaskError("TaskRevokedError", "celery.exceptions", reason, null);
    return CompletableFuture.allOf(
        chains.afterRevoked(message, reason), canvases.reportToChord(message, null, error, queue));
  }

  private static CompletableFuture<Settlement> requeueUnrecorded(
      TaskMessage message, Throwable error) {
    log.error(
        "outcome not recorded, requeued task_id={} error={}",
        message.id(),
        cause(error).toString());
    return CompletableFuture.completedFuture(Settlement.REQUEUE);
  }

  /** The future {@code send} answers, or a failed one if it threw (a malformed signature). */
  private static CompletableFuture<Void> attempt(Supplier<CompletableFuture<Void>> send) {
    try {
      return send.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** The error itself, not the wrapper a dependent stage puts around it. */
  private static Throwable cause(Throwable error) {
    return error instanceof java.util.concurrent.CompletionException && error.getCause() != null
        ? error.getCause()
        : error;
  }

  /**
   * Another try: the same task id with {@code retries} one higher goes back through the delay
   * ladder; this delivery is acknowledged only once that copy is confirmed.
   */
  private CompletableFuture<Settlement> retry(
      Delivery delivery, TaskMessage message, Outcome.Retry r, TaskEvents.Start unreported) {
    retried.incrementAndGet();
    TaskMessage next = message.retried(clock.instant().plus(r.delay()));
    Message encoded = settings.security().seal(TaskMessageCodec.encode(next));
    // Confirmed before the next try exists, so the stream never shows RETRY after its events.
    CompletableFuture<Void> published =
        untilConfirmed(message, () -> events.retried(message, r.error(), next.eta(), unreported))
            .thenCompose(
                ok ->
                    r.delay().compareTo(HOLD_AT_MOST) > 0
                        ? Delays.publish(broker, backTo(delivery, next), encoded, r.delay())
                        : broker.publish(
                            LovageTopology.TASK_EXCHANGE, backTo(delivery, next), encoded));
    return published.handle(
        (ok, error) -> {
          if (error == null) {
            return Settlement.ACKNOWLEDGE;
          }
          log.warn(
              "retry not published, requeued task_id={} error={}", message.id(), error.toString());
          return Settlement.REQUEUE;
        });
  }

  /**
   * Where a task goes back to its queue: the queue, or its urgent lane (see {@link TaskQueues}).
   */
  private String backTo(Delivery delivery, TaskMessage message) {
    return taskQueues.route(delivery.queue(), message.priority());
  }

  /**
   * The worker stopped waiting for a task (shutdown past its grace): the message goes back to the
   * queue, unacknowledged work is never lost; the task may run again elsewhere.
   */
  private static CompletableFuture<Settlement> abandon(TaskMessage message) {
    log.warn(
        "task abandoned at shutdown, requeued task_id={} task={}", message.id(), message.task());
    return CompletableFuture.completedFuture(Settlement.REQUEUE);
  }

  /**
   * A message delivered this often has been running when its worker died, each time: it is not run
   * again but dead-lettered as a FAILURE with Celery's {@code WorkerLostError}.
   */
  private CompletableFuture<Settlement> poison(Delivery delivery, TaskMessage message) {
    failed.incrementAndGet();
    String reason =
        "delivered "
            + (delivery.deliveryCount() + 1)
            + " times without finishing: the worker running it died each time";
    TaskError error = new TaskError("WorkerLostError", null, reason, null);
    log.error(
        "poison message task_id={} task={} reason=\"{}\"", message.id(), message.task(), reason);
    return events
        .failed(message, error, 0, null)
        .handle((ok, e) -> e)
        .thenCompose(
            e -> endWorkflow(message, () -> failedInWorkflow(message, error, delivery.queue())))
        .thenApply(
            e -> Settlement.deadLetter(new DeadLetter(reason, error, delivery.deliveryCount())));
  }

  /**
   * A task not due yet goes back to RabbitMQ's delay ladder instead of waiting in this worker, so
   * no consumer timeout or crash can duplicate or lose it; the delivery is acknowledged once the
   * delayed copy is confirmed.
   */
  private CompletableFuture<Settlement> postpone(
      Delivery delivery, TaskMessage message, Duration wait) {
    return Delays.publish(broker, backTo(delivery, message), delivery.message(), wait)
        .handle(
            (ok, error) -> {
              if (error == null) {
                log.debug("task postponed task_id={} eta={}", message.id(), message.eta());
                return Settlement.ACKNOWLEDGE;
              }
              log.warn(
                  "task not postponed, requeued task_id={} error={}",
                  message.id(),
                  error.toString());
              return Settlement.REQUEUE;
            });
  }

  /**
   * A unique task that ended for good (SUCCESS, FAILURE, REVOKED) gives its key back, before its
   * outcome is announced: whoever sees it finished may send an equal task at once. A retry keeps
   * the key. Best effort: a key not given back is free at the end of its {@code uniqueFor}.
   */
  private void releaseUnique(TaskMessage message) {
    if (message.extraHeaders().get(io.lovage.Unique.HEADER) instanceof String lock) {
      try {
        Duration uniqueFor =
            message.extraHeaders().get(io.lovage.Unique.FOR_HEADER) instanceof Number millis
                ? Duration.ofMillis(millis.longValue())
                : null;
        uniqueLocks.release(lock, message.id(), uniqueFor);
      } catch (RuntimeException e) {
        log.warn(
            "unique lock not released, it ends at its TTL task_id={} task={} lock={} error={}",
            message.id(),
            message.task(),
            lock,
            e.toString());
      }
    }
  }

  private CompletableFuture<Settlement> expire(Delivery delivery, TaskMessage message) {
    log.info(
        "task expired, not run task_id={} task={} expires={}",
        message.id(),
        message.task(),
        message.expires());
    releaseUnique(message);
    return untilConfirmed(
            message, () -> events.revoked(message, "expired at " + message.expires(), true))
        .handle((ok, error) -> error)
        .thenCompose(
            error -> {
              if (error != null) {
                return requeueUnrecorded(message, error);
              }
              return endWorkflow(
                      message,
                      () ->
                          revokedInWorkflow(
                              message, "expired at " + message.expires(), delivery.queue()))
                  .thenCompose(ok -> answerRevoked(message, "expired at " + message.expires()))
                  .thenApply(ok -> Settlement.ACKNOWLEDGE);
            });
  }

  /**
   * A revoked or expired task answers its {@code reply_to} with state REVOKED, as Celery's workers
   * do: a Celery client's {@code get()} raises {@code TaskRevokedError} at once, a {@link
   * io.lovage.TaskFuture} fails. Best effort, like every reply.
   */
  private CompletableFuture<Void> answerRevoked(TaskMessage message, String reason) {
    return recorded(
        message,
        CompletableFuture.completedFuture(null),
        () -> RpcReplies.revoked(broker, message, reason));
  }

  private static void sleep(Duration wait) {
    try {
      Thread.sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The outcome is recorded once its event is confirmed; a caller waiting on {@code reply_to}
   * (Celery's rpc backend, {@link io.lovage.TaskClient#submit}) gets a reply too, best effort: a
   * caller that went away is not an error.
   */
  private CompletableFuture<Void> recorded(
      TaskMessage message, CompletableFuture<Void> event, Supplier<CompletableFuture<Void>> reply) {
    if (message.replyTo() == null
        || message.ignoresResult()
        || io.lovage.result.ReplyRecorder.recordsEvents(message.replyTo())) {
      return event; // the sender reads this worker's events instead
    }
    CompletableFuture<Void> replied =
        reply
            .get()
            .exceptionally(
                error -> {
                  log.debug(
                      "reply not delivered task_id={} reply_to={} error={}",
                      message.id(),
                      message.replyTo(),
                      error.toString());
                  return null;
                });
    return CompletableFuture.allOf(event, replied);
  }

  private CompletableFuture<Settlement> reject(
      Delivery delivery, String taskId, String taskName, String reason) {
    rejected.incrementAndGet();
    log.warn(
        "task rejected task_id={} task={} queue={} reason=\"{}\"",
        taskId,
        taskName,
        delivery.queue(),
        reason);
    if (taskId != null) {
      events.rejected(taskId, taskName, reason);
    }
    return CompletableFuture.completedFuture(
        Settlement.deadLetter(new DeadLetter(reason, null, delivery.deliveryCount() + 1)));
  }

  public WorkerSettings settings() {
    return settings;
  }

  private volatile Runnable remoteShutdown = () -> Thread.ofPlatform().start(this::close);

  /**
   * What Celery's {@code control shutdown} does to this worker; by default it closes it (stops
   * consuming, lets running tasks finish within the shutdown grace). The worker application makes
   * it a SIGTERM of its process, so that it exits as {@code docker stop} makes it.
   */
  public void onRemoteShutdown(Runnable action) {
    this.remoteShutdown = action;
  }

  void shutdownRequested() {
    log.info("shutdown requested by remote control name={}", settings.name());
    remoteShutdown.run();
  }

  /** The rate limit of each task on this worker; remote control changes them. */
  RateLimiter rateLimiter() {
    return rateLimiter;
  }

  ConcurrencyLimiter concurrencyLimiter() {
    return concurrencyLimiter;
  }

  /** Time limits set per task by remote control, for tasks started from then on. */
  TimeLimitOverrides timeLimitOverrides() {
    return timeLimitOverrides;
  }

  /** The process pool, if some task of this worker runs in child processes. */
  Optional<io.lovage.worker.process.ProcessPool> processPool() {
    return pools.processPool();
  }

  /**
   * Tasks this worker runs at once now: its capacity, with the process pool's max as it is now
   * (remote control changes it) in place of the one it started with, and never above the capacity,
   * the deliveries it holds at once.
   */
  int concurrency() {
    int started = settings.processes().max();
    int now = processPool().map(pool -> pool.bounds().max()).orElse(started);
    return Math.min(settings.capacity(), settings.capacity() - started + now);
  }

  /** The names of the tasks this worker runs, built-ins included. */
  java.util.Set<String> taskNames() {
    return tasks.names();
  }

  /** The tasks running here now. */
  java.util.Collection<Active> activeTasks() {
    return List.copyOf(active.values());
  }

  /** The revoked task ids this worker knows, the most recent {@link #REVOKED_SHOWN} of them. */
  List<String> revokedIds() {
    return revocations.recent(REVOKED_SHOWN);
  }

  static final int REVOKED_SHOWN = 10_000;

  /** Tasks finished here since start (succeeded, failed, retried), by task name. */
  Map<String, Long> processedByTask() {
    Map<String, Long> counts = new java.util.TreeMap<>();
    processedByTask.forEach((name, count) -> counts.put(name, count.sum()));
    return counts;
  }

  /**
   * Counts since start: tasks succeeded, failed for good, retried, and messages rejected to the
   * dead-letter queue unrun; and now: deliveries held (running or being settled), CPU tasks
   * running, tasks running in child processes, child processes, and deliveries held back by a rate
   * limit or waiting for a concurrency permit (they take no slot, so they are not in {@code
   * active}); deliveries delayed by either limit since start, and concurrency permits held now.
   */
  public record Stats(
      long succeeded,
      long failed,
      long retried,
      long rejected,
      int active,
      int cpuActive,
      int processActive,
      int processChildren,
      int rateLimited,
      int concurrencyLimited,
      long limitDelayed,
      int permitsHeld) {}

  public Stats stats() {
    return new Stats(
        succeeded.get(),
        failed.get(),
        retried.get(),
        rejected.get(),
        settings.capacity() - slots.availablePermits(),
        pools.cpuActive(),
        pools.processActive(),
        pools.processChildren(),
        rateLimiter.held(),
        concurrencyLimiter.held(),
        rateLimiter.delayed() + concurrencyLimiter.delayed(),
        concurrencyLimiter.permitsHeld());
  }

  /**
   * Stops consuming, then lets running tasks finish within the shutdown grace. Deliveries not yet
   * started stay unacknowledged and go back to their queue when the connection closes.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    // Taken before the consumers stop, requeued after: not delivered to this worker again.
    List<Delivery> held = new ArrayList<>(rateLimiter.close());
    held.addAll(concurrencyLimiter.close());
    heartbeat.shutdownNow();
    subscriptions.forEach(Subscription::close);
    synchronized (consuming) {
      consuming.values().forEach(consumers -> consumers.forEach(Subscription::close));
      consuming.clear();
    }
    synchronized (arrivedWhileClosing) {
      consumersStopped = true;
      held.addAll(arrivedWhileClosing);
      arrivedWhileClosing.clear();
    }
    held.forEach(delivery -> settle(delivery, Settlement.REQUEUE));
    if (!held.isEmpty()) {
      log.info(
          "tasks not started requeued (held by a limit, or received while stopping) name={}"
              + " count={}",
          settings.name(),
          held.size());
    }
    fleetTokens.close();
    revocations.close();
    limitBook.close();
    joiner.close();
    pidbox.close();
    pools.drain();
    subscriptions.clear();
    try {
      if (slots.tryAcquire(
          settings.capacity(), settings.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
        slots.release(settings.capacity());
      } else {
        log.warn(
            "tasks still running after the shutdown grace, interrupting them name={} active={}",
            settings.name(),
            stats().active());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pool.shutdownNow();
    // After the handlers were interrupted: tasks still running in children are requeued, not lost.
    pools.close();
    try {
      events.worker("offline", HEARTBEAT.toMillis() / 1000.0, 0, 0).get(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      log.debug("worker-offline not sent error={}", e.toString());
    }
    log.info("worker stopped name={} stats={}", settings.name(), stats());
  }
}
