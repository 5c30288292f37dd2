package io.lovage;

import io.lovage.broker.Broker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delays;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.QueueType;
import io.lovage.broker.Subscription;
import io.lovage.broker.TaskQueues;
import io.lovage.broker.Topology;
import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.RpcReplies;
import io.lovage.result.TaskEvents;
import io.lovage.result.TaskRecord;
import io.lovage.security.MessageSecurity;
import io.lovage.unique.UniqueLocks;
import io.lovage.workflow.CanvasSender;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sends tasks from Java. A task counts as sent once RabbitMQ has confirmed its message.
 *
 * <pre>{@code
 * TaskClient client = new TaskClient(broker, "billing-service");
 * // fire and forget: completes once RabbitMQ has the task
 * client.send(TaskMessage.builder("demo.add").args(2, 3).build()).join();
 * // with a result: completes when a worker (Lovage or Python Celery) has run it
 * long sum = client.submit(TaskMessage.builder("demo.add").args(2, 3).build())
 *     .get(Duration.ofSeconds(10), long.class);
 * }</pre>
 *
 * <p>A queue is declared the first time a task is sent to it, as Celery does with {@code
 * task_create_missing_queues}; a queue that exists already is used as it is. A task with an eta
 * more than a second ahead goes to RabbitMQ's delay ladder and reaches its queue when due. A task
 * of priority 5–9 for a quorum queue on RabbitMQ 3.x goes to the queue's urgent lane, as {@link
 * TaskQueues} says.
 */
public final class TaskClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(TaskClient.class);

  /** An unused reply queue is deleted by RabbitMQ after this long. */
  static final Duration REPLY_QUEUE_EXPIRY = Duration.ofMinutes(30);

  /**
   * Under a steady load, the task-sent events go out in one message per this long at most: a
   * replica that did not send a task knows it as PENDING up to that much later, and RabbitMQ and
   * the producer spend about a quarter less CPU per task at 10,000 a second.
   */
  static final Duration SENT_EVENT_SPACING = Duration.ofMillis(20);

  /** How long {@link #close} waits for task-sent events not confirmed yet. */
  static final Duration EVENTS_SETTLE = Duration.ofSeconds(5);

  private final Broker broker;
  private final String origin;
  private final Clock clock;
  private final TaskEvents events;
  private final MessageSecurity security;

  private final TaskQueues queues;

  private final Map<String, TaskFuture> waiting = new ConcurrentHashMap<>();
  private String replyQueue;
  private EventStreamResultStore records;
  private final Map<String, java.util.List<TaskFuture>> recordWaiting = new ConcurrentHashMap<>();
  private Subscription replies;

  public TaskClient(Broker broker, String origin) {
    this(broker, origin, QueueType.QUORUM, Clock.systemUTC());
  }

  /**
   * @param queueType the type of the queues this client creates when they do not exist yet
   */
  public TaskClient(Broker broker, String origin, QueueType queueType, Clock clock) {
    this(broker, origin, queueType, clock, MessageSecurity.NONE);
  }

  /**
   * A client that signs every task message it sends when {@code security} has a signer ({@code
   * LOVAGE_SECURITY_KEY} and {@code LOVAGE_SECURITY_CERTIFICATE}), as Celery's {@code
   * task_serializer = "auth"} does.
   *
   * <pre>{@code
   * MessageSecurity signing =
   *     MessageSecurity.signingWith(
   *         MessageSigner.fromPem(Path.of("app.key"), Path.of("app.pem"), WireFormat.DEFAULT));
   * TaskClient client =
   *     new TaskClient(broker, "billing-service", QueueType.QUORUM, Clock.systemUTC(), signing);
   * }</pre>
   */
  public TaskClient(
      Broker broker, String origin, QueueType queueType, Clock clock, MessageSecurity security) {
    this.security = security;
    this.broker = broker;
    this.origin = origin;
    this.queues = new TaskQueues(broker, queueType);
    this.clock = clock;
    this.events = new TaskEvents(broker, origin, clock, SENT_EVENT_SPACING);
    this.control = new RemoteControl(broker, clock);
    this.locks = new UniqueLocks(broker);
    broker.declare(
        LovageTopology.events().plus(LovageTopology.delays()).plus(LovageTopology.chords()));
  }

  /** Sends to the default queue, {@value LovageTopology#DEFAULT_QUEUE}. */
  public CompletableFuture<TaskMessage> send(TaskMessage message) {
    return send(message, LovageTopology.DEFAULT_QUEUE);
  }

  /**
   * Sends to a queue. The future completes with the message as sent once the broker confirmed it,
   * or exceptionally with a {@link io.lovage.broker.PublishException}.
   */
  public CompletableFuture<TaskMessage> send(TaskMessage message, String queue) {
    String target;
    try {
      target = queues.route(queue, message.priority());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    TaskMessage sent = message.origin() == null ? message.withOrigin(origin) : message;
    Message encoded = security.seal(TaskMessageCodec.encode(sent));
    Instant now = clock.instant();
    CompletableFuture<Void> published =
        sent.eta() != null && Duration.between(now, sent.eta()).toMillis() > 1000
            ? Delays.publish(broker, target, encoded, Duration.between(now, sent.eta()))
            : broker.publish(LovageTopology.TASK_EXCHANGE, target, encoded);
    if (sent.ignoresResult()) {
      // Celery's ignore_result: no state is kept for the task, not even PENDING.
      return published.thenApply(confirmed -> sent);
    }
    return published.thenApply(
        confirmed -> {
          events
              .sent(sent, queue)
              .exceptionally(
                  error -> {
                    log.warn(
                        "task-sent event not recorded task_id={} error={}",
                        sent.id(),
                        error.toString());
                    return null;
                  });
          return sent;
        });
  }

  /**
   * Sends unless an equal task is pending or running: then nothing is sent and the answer names the
   * task that is ({@link Unique.Sent#replayed()}). Equal is decided by RabbitMQ, so it holds across
   * every client and producer replica on the broker; see {@link Unique}.
   *
   * <pre>{@code
   * Unique.Sent sent =
   *     client.send(message, "celery", Unique.key("invoice-42").lasting(Duration.ofMinutes(10)))
   *         .join();
   * }</pre>
   *
   * <p>Completes exceptionally with a {@link UniqueLocks.Busy} when the key is held but its
   * holder's id did not turn up in time, or as {@link #send(TaskMessage, String)} does.
   */
  public CompletableFuture<Unique.Sent> send(TaskMessage message, String queue, Unique unique) {
    String lock = unique.lockFor(message);
    TaskMessage marked =
        message.toBuilder()
            .header(Unique.HEADER, lock)
            .header(Unique.FOR_HEADER, unique.uniqueFor().toMillis())
            .build();
    return CompletableFuture.supplyAsync(
            () -> locks.claim(lock, marked.id(), unique.uniqueFor()), BLOCKING)
        .thenCompose(
            claim ->
                claim instanceof UniqueLocks.Claim.Held held
                    ? CompletableFuture.completedFuture(new Unique.Sent(held.id(), true, null))
                    : send(marked, queue)
                        .thenApply(sent -> new Unique.Sent(sent.id(), false, sent))
                        .whenCompleteAsync(
                            (sent, error) -> {
                              if (error != null) {
                                // Not sent: the key must not stay taken by a task that is not.
                                locks.release(lock, marked.id());
                              }
                            },
                            BLOCKING));
  }

  /** Claims block on round trips to the broker: each waits on a virtual thread of its own. */
  private static final java.util.concurrent.Executor BLOCKING =
      command -> Thread.ofVirtual().name("lovage-unique").start(command);

  private final UniqueLocks locks;

  /**
   * Submits unless an equal task is pending or running ({@link #send(TaskMessage, String,
   * Unique)}), and answers the future result of the task that holds the key: this one, or the one
   * found (read from the task events, as {@link #future(String)} does). Blocks until the broker has
   * answered the claim.
   */
  public TaskFuture submit(TaskMessage message, String queue, Unique unique) {
    TaskMessage withReply = message.withReplyTo(replyQueue());
    TaskFuture mine = new TaskFuture(withReply.id());
    waiting.put(withReply.id(), mine);
    mine.whenComplete((result, error) -> waiting.remove(withReply.id()));
    Unique.Sent sent;
    try {
      sent = send(withReply, queue, unique).join();
    } catch (java.util.concurrent.CompletionException e) {
      mine.completeExceptionally(e.getCause() == null ? e : e.getCause());
      return mine;
    }
    if (!sent.replayed()) {
      return mine;
    }
    waiting.remove(withReply.id());
    return future(sent.id());
  }

  /** Submits to the default queue and returns its future result. */
  public TaskFuture submit(TaskMessage message) {
    return submit(message, LovageTopology.DEFAULT_QUEUE);
  }

  /**
   * Sends with a {@code reply_to} of this client (Celery's rpc result protocol) and returns a
   * future that completes with the result, or with a {@link TaskFailedException}, when a worker has
   * run the task, or exceptionally at once if the broker did not take it.
   */
  public TaskFuture submit(TaskMessage message, String queue) {
    TaskMessage withReply = message.withReplyTo(replyQueue());
    TaskFuture future = new TaskFuture(withReply.id());
    waiting.put(withReply.id(), future);
    future.whenComplete((result, error) -> waiting.remove(withReply.id()));
    send(withReply, queue)
        .exceptionally(
            error -> {
              future.completeExceptionally(error);
              return null;
            });
    return future;
  }

  /** Submits a workflow to the default queue; see {@link #submit(Canvas, String)}. */
  public TaskFuture submit(Canvas canvas) {
    return submit(canvas, LovageTopology.DEFAULT_QUEUE);
  }

  /**
   * Submits a workflow (Celery's {@code canvas.apply_async()}): every task gets its id now, the
   * first messages are sent, and the answer completes with the workflow's result: a chain's last
   * step's, a group's list of its members' (in order), a chord's body's; or exceptionally with the
   * first failure that ends it. Its {@link TaskFuture#id()} is that of the task whose result it is
   * (the group id for a group); {@link #future(String)} answers any member by id.
   *
   * @param queue where tasks go whose signature names no queue
   */
  public TaskFuture submit(Canvas canvas, String queue) {
    ObjectNode frozen = CanvasSender.freeze(canvas.toJson(), replyQueue());
    CompletableFuture<JsonNode> result = resultOf(frozen);
    TaskFuture future = new TaskFuture(workflowId(frozen));
    result.whenComplete(
        (value, error) -> {
          if (error == null) {
            future.complete(value);
          } else {
            future.completeExceptionally(
                error instanceof java.util.concurrent.CompletionException
                        && error.getCause() != null
                    ? error.getCause()
                    : error);
          }
        });
    new CanvasSender(broker, this, events, clock)
        .send(frozen, null, java.util.List.of(), null, queue)
        .exceptionally(
            error -> {
              future.completeExceptionally(error);
              return null;
            });
    return future;
  }

  /** The id a workflow's result is known by: its last task's, a group's own. */
  private static String workflowId(JsonNode signature) {
    String kind = SignatureDict.kind(signature);
    if (SignatureDict.CHAIN.equals(kind)) {
      return workflowId(SignatureDict.tasks(signature).getLast());
    }
    if (SignatureDict.CHORD.equals(kind)) {
      return workflowId(SignatureDict.body(signature));
    }
    if (SignatureDict.GROUP.equals(kind)) {
      return signature.path("options").path("group_id").asString();
    }
    return SignatureDict.taskId(signature);
  }

  /** The result of a frozen canvas, from the replies to its tasks' {@code reply_to}. */
  private CompletableFuture<JsonNode> resultOf(JsonNode signature) {
    String kind = SignatureDict.kind(signature);
    if (SignatureDict.CHAIN.equals(kind)) {
      return resultOf(SignatureDict.tasks(signature).getLast());
    }
    if (SignatureDict.CHORD.equals(kind)) {
      return resultOf(SignatureDict.body(signature));
    }
    if (SignatureDict.GROUP.equals(kind)) {
      java.util.List<CompletableFuture<JsonNode>> members =
          SignatureDict.tasks(signature).stream().map(this::resultOf).toList();
      return CompletableFuture.allOf(members.toArray(CompletableFuture[]::new))
          .thenApply(
              done -> {
                tools.jackson.databind.node.ArrayNode list = Json.MAPPER.createArrayNode();
                members.forEach(member -> list.add(member.join()));
                return list;
              });
    }
    String id = SignatureDict.taskId(signature);
    TaskFuture future = new TaskFuture(id);
    waiting.put(id, future);
    future.whenComplete((value, error) -> waiting.remove(id));
    return future;
  }

  /**
   * Revokes a task (Celery's {@code revoke}): no worker starts it from now on, also one that starts
   * later (within the event retention); with {@code terminate}, the worker running it interrupts
   * it. Its state becomes REVOKED. Completes once the broker has the revocation.
   */
  public CompletableFuture<Void> revoke(String taskId, boolean terminate) {
    CompletableFuture<Void> recorded =
        events.revoke(
            taskId,
            null,
            terminate ? "revoked and terminated on request" : "revoked on request",
            false,
            terminate);
    return recorded.thenRun(() -> broadcastRevoke(taskId, terminate));
  }

  /**
   * Celery's workers keep revocations in memory and learn them only from the remote-control
   * broadcast: the same revoke goes to {@code celery.pidbox}, marked so that Lovage workers, which
   * know it from the revocation stream already, do not record it twice. Best effort: a fleet
   * without Celery workers needs none of it.
   */
  private void broadcastRevoke(String taskId, boolean terminate) {
    ObjectNode arguments = Json.MAPPER.createObjectNode();
    arguments.put("task_id", taskId);
    arguments.put("terminate", terminate);
    arguments.put("signal", "SIGTERM");
    arguments.put(REVOCATION_RECORDED, true);
    control
        .cast("revoke", arguments, REVOKE_BROADCAST_EXPIRES)
        .exceptionally(
            error -> {
              log.debug("revoke not broadcast to Celery workers error={}", error.toString());
              return null;
            });
  }

  /** How long a broadcast revoke is worth acting on (Celery's own default is 5 minutes). */
  private static final Duration REVOKE_BROADCAST_EXPIRES = Duration.ofMinutes(5);

  /** Celery's remote-control exchange. */
  public static final String PIDBOX_EXCHANGE = "celery.pidbox";

  /**
   * An argument of a remote-control revoke sent by a Lovage client: the revocation is in the stream
   * already.
   */
  public static final String REVOCATION_RECORDED = "lovage_recorded";

  private final RemoteControl control;

  private synchronized String replyQueue() {
    if (replyQueue == null) {
      String name = "lovage.reply." + UUID.randomUUID();
      broker.declare(
          new Topology(
              List.of(),
              List.of(
                  // Durable, so replies sent while this client reconnects or the broker
                  // restarts wait for it; deleted once unused for REPLY_QUEUE_EXPIRY.
                  new Topology.Queue(
                      name,
                      Map.of(
                          "x-queue-type", "classic", "x-expires", REPLY_QUEUE_EXPIRY.toMillis()))),
              List.of()));
      replies = broker.consume(name, ConsumeOptions.prefetch(256), this::onReply);
      replyQueue = name;
    }
    return replyQueue;
  }

  private void onReply(Delivery delivery) {
    try {
      RpcReplies.read(
              Json.MAPPER.readTree(delivery.message().body()), delivery.message().correlationId())
          .ifPresent(
              outcome -> {
                TaskFuture future = waiting.get(outcome.taskId());
                if (future == null) {
                  return;
                }
                if (outcome.error() == null) {
                  future.complete(outcome.result());
                } else {
                  future.completeExceptionally(outcome.error());
                }
              });
    } catch (JacksonException e) {
      log.warn("ignoring a reply that is not JSON error={}", e.getOriginalMessage());
    } finally {
      delivery.ack();
    }
  }

  /**
   * Pool.map: submits {@code task} once per item (the item as its one argument) and answers their
   * futures, in order. {@code TaskFuture.allOf(client.map("resize", images))} waits for all.
   */
  public java.util.List<TaskFuture> map(String task, Iterable<?> items, String queue) {
    java.util.List<TaskFuture> futures = new java.util.ArrayList<>();
    for (Object item : items) {
      futures.add(submit(TaskMessage.builder(task).args(item).build(), queue));
    }
    return futures;
  }

  /**
   * A future for any task by id, also one sent by another process or before a restart: it completes
   * from the durable record of task events (the stream {@code lovage.events}) when the task reaches
   * SUCCESS, FAILURE or REVOKED. The first call starts reading that stream.
   */
  public TaskFuture future(String taskId) {
    EventStreamResultStore store = records();
    TaskFuture future = new TaskFuture(taskId);
    recordWaiting
        .computeIfAbsent(taskId, id -> new java.util.concurrent.CopyOnWriteArrayList<>())
        .add(future);
    future.whenComplete((r, e) -> recordWaiting.remove(taskId));
    store.find(taskId).ifPresent(this::completeFromRecord);
    return future;
  }

  private synchronized EventStreamResultStore records() {
    if (records == null) {
      records = new EventStreamResultStore(EventStreamResultStore.DEFAULT_MAX_TASKS);
      records.onChange(this::completeFromRecord);
      records.follow(broker);
    }
    return records;
  }

  private void completeFromRecord(TaskRecord record) {
    java.util.List<TaskFuture> futures = recordWaiting.get(record.id());
    if (futures == null || !record.state().isFinal()) {
      return;
    }
    for (TaskFuture future : futures) {
      if (record.state() == TaskState.SUCCESS) {
        future.complete(record.result());
      } else {
        TaskError error = record.error();
        future.completeExceptionally(
            new TaskFailedException(
                record.id(),
                error == null ? record.state().name() : error.type(),
                error == null ? "" : String.valueOf(error.message()),
                error == null ? null : error.traceback()));
      }
    }
  }

  /**
   * Waits at most {@link #EVENTS_SETTLE} for the task-sent events of the tasks sent so far to be
   * confirmed, then stops listening for replies; futures not completed by then stay incomplete.
   * Without its task-sent event, another producer replica would know a task only once a worker
   * reports it.
   */
  @Override
  public synchronized void close() {
    settleEvents();
    if (replies != null) {
      replies.close();
    }
    if (records != null) {
      records.close();
    }
    control.close();
  }

  private void settleEvents() {
    try {
      events.settled().get(EVENTS_SETTLE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.warn(
          "task-sent events still unconfirmed {} s after the client began to close; replicas"
              + " that did not send those tasks know them once a worker reports them",
          EVENTS_SETTLE.toSeconds());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      throw new IllegalStateException("settled() does not fail", e);
    }
  }
}
