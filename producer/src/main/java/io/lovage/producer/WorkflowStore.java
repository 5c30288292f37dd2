package io.lovage.producer;

import io.lovage.broker.Broker;
import io.lovage.broker.CatchUpMarker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.Subscription;
import io.lovage.protocol.Json;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The workflows submitted through any producer, by id, so that every replica, and a producer after
 * a restart, answers {@code GET /workflows/{id}}. A submit appends one record to the event stream
 * {@code lovage.events}, and every store reads them back from it:
 *
 * <pre>{@code
 * {"type": "lovage-workflow", "id": "…", "timestamp": 1767225600.5, "tree": {WorkflowTree's JSON}}
 * }</pre>
 *
 * The record goes through the default exchange, like the history's {@link CatchUpMarker}: it
 * reaches that stream only, so Celery's event receivers (bound to {@code celeryev}) never see it,
 * and the result store skips it (it has no task {@code uuid}).
 *
 * <p>Like the result store, it reads the stream from {@code expires} back, forgets a workflow
 * {@code expires} after it was submitted, and holds at most {@code maxTasks} tasks of workflows
 * (the oldest workflows forgotten first; the newest is kept whatever its size).
 */
final class WorkflowStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WorkflowStore.class);

  static final String RECORD_TYPE = "lovage-workflow";
  private static final int PREFETCH = 1_000;

  /** A workflow as submitted: its id, its tree and when. */
  record Workflow(String id, WorkflowTree tree, Instant submitted, int size) {}

  private final Broker broker;
  private final int maxTasks;
  private final Duration expires;
  private final Clock clock;
  private final CatchUpMarker marker = new CatchUpMarker();
  private final SequencedMap<String, Workflow> index = new LinkedHashMap<>();

  /** Each held workflow's tasks, to the workflow's id: the dashboard links a task to its tree. */
  private final Map<String, String> workflowOfTask = new java.util.HashMap<>();

  private final java.util.Set<String> ownUnread = new java.util.HashSet<>();
  private long heldTasks;
  private Subscription subscription;

  WorkflowStore(Broker broker, int maxTasks, Duration expires, Clock clock) {
    if (maxTasks < 1 || expires.isNegative() || expires.isZero()) {
      throw new IllegalArgumentException(
          "workflows need maxTasks >= 1 and a positive expiry, got " + maxTasks + ", " + expires);
    }
    this.broker = broker;
    this.maxTasks = maxTasks;
    this.expires = expires;
    this.clock = clock;
  }

  /**
   * Starts reading the stream from {@code expires} back. Until that history is read ({@link
   * #caughtUp()}) a workflow not found may only not have been read yet.
   */
  WorkflowStore follow() {
    subscription =
        broker.consume(
            LovageTopology.EVENT_STREAM,
            ConsumeOptions.prefetch(PREFETCH)
                .withArgument("x-stream-offset", Date.from(clock.instant().minus(expires))),
            this::onDelivery);
    marker
        .append(broker, LovageTopology.EVENT_STREAM)
        .whenComplete(
            (ok, error) -> {
              if (error != null) {
                log.warn(
                    "could not mark the end of the workflow history; workflows not read yet are"
                        + " reported unknown until they are error={}",
                    error.toString());
                marker.giveUp();
              }
            });
    return this;
  }

  boolean caughtUp() {
    return marker.caughtUp();
  }

  /**
   * Appends a workflow's record to the stream; completes once RabbitMQ confirmed it, and from then
   * on this store finds it (before it comes back through the stream).
   */
  CompletableFuture<Workflow> append(String id, WorkflowTree tree) {
    Workflow workflow = new Workflow(id, tree, clock.instant(), tree.size());
    ObjectNode record = Json.MAPPER.createObjectNode();
    record.put("type", RECORD_TYPE);
    record.put("id", id);
    record.put("timestamp", workflow.submitted().toEpochMilli() / 1000.0);
    record.set("tree", tree.toJson());
    synchronized (this) {
      ownUnread.add(id);
    }
    return broker
        .publish(
            "",
            LovageTopology.EVENT_STREAM,
            Message.json(Json.MAPPER.writeValueAsBytes(record), Map.of()))
        .handle(
            (confirmed, error) -> {
              if (error != null) {
                readBackOwn(id); // refused: nothing of it to remember or to skip
                throw new java.util.concurrent.CompletionException(error);
              }
              remember(workflow);
              return workflow;
            });
  }

  synchronized Optional<Workflow> find(String id) {
    return Optional.ofNullable(index.get(id)).filter(this::current);
  }

  /** The id of the workflow a task belongs to, if that workflow is held. */
  synchronized Optional<String> workflowOf(String taskId) {
    return Optional.ofNullable(workflowOfTask.get(taskId)).filter(id -> find(id).isPresent());
  }

  private boolean current(Workflow workflow) {
    return workflow.submitted().isAfter(clock.instant().minus(expires));
  }

  private synchronized void remember(Workflow workflow) {
    if (index.containsKey(workflow.id())) {
      return;
    }
    index.put(workflow.id(), workflow);
    workflow.tree().taskIds().forEach(task -> workflowOfTask.put(task, workflow.id()));
    heldTasks += workflow.size();
    while (index.size() > 1 && (heldTasks > maxTasks || !current(index.firstEntry().getValue()))) {
      Workflow forgotten = index.pollFirstEntry().getValue();
      heldTasks -= forgotten.size();
      forgotten.tree().taskIds().forEach(task -> workflowOfTask.remove(task, forgotten.id()));
    }
  }

  /**
   * Whether this is one of this store's own records coming back through the stream: it was
   * remembered when RabbitMQ confirmed it, and may have been forgotten since (past {@code
   * maxTasks}); reading it back must not bring it back.
   */
  private synchronized boolean readBackOwn(String id) {
    return ownUnread.remove(id);
  }

  private void onDelivery(Delivery delivery) {
    try {
      byte[] body = delivery.message().body();
      // Celery's batches of task events are arrays: neither a record nor the marker.
      if (body.length > 0 && body[0] == '[') {
        return;
      }
      JsonNode entry = Json.MAPPER.readTree(body);
      if (marker.isMarker(entry)) {
        return;
      }
      if (RECORD_TYPE.equals(entry.path("type").asString(null))) {
        Workflow workflow = read(entry);
        if (!readBackOwn(workflow.id()) && current(workflow)) {
          remember(workflow);
        }
      }
    } catch (JacksonException e) {
      log.warn("skipping an event that is not JSON error={}", e.getOriginalMessage());
    } catch (IllegalArgumentException e) {
      log.warn("skipping a workflow record that is not valid error={}", e.getMessage());
    } finally {
      delivery.ack();
    }
  }

  private static Workflow read(JsonNode record) {
    String id = record.path("id").asString(null);
    double seconds = record.path("timestamp").asDouble(0);
    if (id == null || seconds <= 0 || !record.path("tree").isObject()) {
      throw new IllegalArgumentException("a workflow record needs 'id', 'timestamp' and 'tree'");
    }
    WorkflowTree tree = WorkflowTree.fromJson(record.get("tree"));
    return new Workflow(id, tree, Instant.ofEpochMilli(Math.round(seconds * 1000)), tree.size());
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
  }
}
