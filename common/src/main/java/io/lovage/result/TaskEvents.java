package io.lovage.result;

import io.lovage.TaskError;
import io.lovage.broker.Broker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.protocol.CeleryTime;
import io.lovage.protocol.Json;
import io.lovage.protocol.PythonRepr;
import io.lovage.protocol.TaskMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sends task events to Celery's {@code celeryev} exchange, in Celery's shape (type, uuid, hostname,
 * timestamp, clock, …), so Celery's monitoring tools and Lovage's result store read one source.
 *
 * <p>Where Celery puts a Python repr, Lovage adds the JSON value as well: {@code result} is the
 * task's JSON result, a failure carries {@code exc_type} and {@code exc_message} beside Celery's
 * {@code exception} text, and task-sent and task-received carry the arguments' JSON text ({@link
 * TaskArguments}) beside Celery's {@code args} and {@code kwargs} reprs.
 *
 * <p>Task events published while an earlier one waits for its confirm go out together as one
 * message ({@link EventBatches}); each future completes when its event is confirmed.
 */
public final class TaskEvents {
  private final Broker broker;
  private final String hostname;
  private final Clock clock;
  private final AtomicLong lamport = new AtomicLong();
  private final long pid = ProcessHandle.current().pid();
  private final EventBatches batches;

  public TaskEvents(Broker broker, String hostname, Clock clock) {
    this(broker, hostname, clock, Duration.ZERO);
  }

  /**
   * Events whose batches go out at most once per {@code spacing} while more keep coming ({@link
   * EventBatches}): for a sender that waits for none of its events, such as a producer's task-sent.
   */
  public TaskEvents(Broker broker, String hostname, Clock clock, Duration spacing) {
    this.broker = broker;
    this.hostname = hostname;
    this.clock = clock;
    this.batches = new EventBatches(broker, Map.of("hostname", hostname), spacing);
  }

  /**
   * A message header (and task-sent field) naming the client's idempotency key: a second submit
   * with the same key answers the first task instead of sending another.
   */
  public static final String IDEMPOTENCY_KEY = "idempotency_key";

  /**
   * Completes, never exceptionally, once every event published before the call is confirmed or has
   * failed. Events go out in order, so this is the future of the last one.
   */
  public CompletableFuture<Void> settled() {
    return batches.settled();
  }

  public CompletableFuture<Void> sent(TaskMessage task, String queue) {
    ObjectNode event = describe(task);
    event.put("queue", queue);
    event.put("exchange", LovageTopology.TASK_EXCHANGE);
    event.put("routing_key", queue);
    if (task.extraHeaders().get(IDEMPOTENCY_KEY) instanceof String key) {
      event.put(IDEMPOTENCY_KEY, key);
    }
    return send(TaskEvent.SENT, task.id(), event);
  }

  /**
   * When a worker received and started a task whose task-received and task-started it never sent
   * (the task was over before they were due): its outcome event carries them instead, in the fields
   * Celery's event state keeps ({@code received}, {@code started}, {@code name}, {@code queue}), so
   * Flower and Lovage's result store still know when it started.
   */
  public record Start(String queue, Instant received, Instant started) {}

  /** Celery's task-received, stamped with when the worker received the task. */
  public CompletableFuture<Void> received(TaskMessage task, String queue, Instant at) {
    ObjectNode event = describe(task);
    event.put("queue", queue);
    event.put("timestamp", seconds(at));
    return send(TaskEvent.RECEIVED, task.id(), event);
  }

  /** Celery's task-started, stamped with when the task started. */
  public CompletableFuture<Void> started(TaskMessage task, Instant at) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("timestamp", seconds(at));
    return send(TaskEvent.STARTED, task.id(), event);
  }

  /**
   * @param unreported the task's start, when its task-received and task-started were not sent (also
   *     for {@link #failed} and {@link #retried}); null when they were
   */
  public CompletableFuture<Void> succeeded(
      TaskMessage task, JsonNode result, double runtime, Start unreported) {
    ObjectNode event = startFields(task, unreported);
    // Celery's field is Python's repr (what Flower shows); the JSON value is beside it.
    event.put("result", PythonRepr.of(result));
    event.set("result_json", result);
    event.put("runtime", runtime);
    return send(TaskEvent.SUCCEEDED, task.id(), event);
  }

  public CompletableFuture<Void> failed(
      TaskMessage task, TaskError error, double runtime, Start unreported) {
    ObjectNode event = startFields(task, unreported);
    event.setAll(errorFields(error));
    event.put("runtime", runtime);
    return send(TaskEvent.FAILED, task.id(), event);
  }

  /** A task that failed and will run again at {@code eta} (Celery's task-retried). */
  public CompletableFuture<Void> retried(
      TaskMessage task, TaskError error, Instant eta, Start unreported) {
    ObjectNode event = startFields(task, unreported);
    event.setAll(errorFields(error));
    event.put("retries", task.retries() + 1);
    event.put("eta", eta == null ? null : CeleryTime.format(eta));
    return send(TaskEvent.RETRIED, task.id(), event);
  }

  /**
   * A task that never ran and never will, recorded FAILURE under its name: a chain's step after one
   * that failed for good.
   */
  public CompletableFuture<Void> failedUnrun(TaskMessage task, TaskError error) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("name", task.task());
    event.setAll(errorFields(error));
    event.put("runtime", 0.0);
    return send(TaskEvent.FAILED, task.id(), event);
  }

  private static ObjectNode startFields(TaskMessage task, Start unreported) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    if (unreported != null) {
      event.put("name", task.task());
      event.put("queue", unreported.queue());
      event.put("received", seconds(unreported.received()));
      if (unreported.started() != null) {
        event.put("started", seconds(unreported.started()));
      }
    }
    return event;
  }

  /** Celery's timestamps: seconds since the epoch, as a float. */
  static double seconds(Instant at) {
    return at.getEpochSecond() + at.getNano() / 1e9;
  }

  /** How far a running task is, e.g. 30 of 100. */
  public CompletableFuture<Void> progress(TaskMessage task, long done, long total) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("done", done);
    event.put("total", total);
    return send(TaskEvent.PROGRESS, task.id(), event);
  }

  /** A dead letter sent back to its queue: the task starts over. */
  public CompletableFuture<Void> replayed(String taskId, String taskName, String queue) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("name", taskName);
    event.put("queue", queue);
    event.put("retries", 0);
    return send(TaskEvent.REPLAYED, taskId, event);
  }

  /** A task that will not run: expired, or revoked. */
  public CompletableFuture<Void> revoked(TaskMessage task, String reason, boolean expired) {
    return revoke(task.id(), task.task(), reason, expired, false);
  }

  /**
   * Revokes a task (Celery's {@code revoke}): workers that have not started it skip it; with {@code
   * terminate}, the worker running it interrupts it.
   */
  public CompletableFuture<Void> revoke(
      String taskId, String taskName, String reason, boolean expired, boolean terminate) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("name", taskName);
    event.put("terminated", terminate);
    event.putNull("signum");
    event.put("expired", expired);
    event.put("reason", reason);
    return send(TaskEvent.REVOKED, taskId, event);
  }

  /** A message that will not run: unknown task, or not a task message Lovage accepts. */
  public CompletableFuture<Void> rejected(String taskId, String taskName, String reason) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("name", taskName);
    event.put("requeue", false);
    event.put("reason", reason);
    return send(TaskEvent.REJECTED, taskId, event);
  }

  private ObjectNode describe(TaskMessage task) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("name", task.task());
    event.put("args", task.argsrepr());
    event.put("kwargs", task.kwargsrepr());
    TaskArguments.of(task.args(), task.kwargs()).writeTo(event);
    event.put("root_id", task.rootId());
    event.put("parent_id", task.parentId());
    event.put("retries", task.retries());
    event.put("eta", task.eta() == null ? null : CeleryTime.format(task.eta()));
    event.put("expires", task.expires() == null ? null : CeleryTime.format(task.expires()));
    return event;
  }

  /**
   * A worker event, Celery's {@code worker-online}, {@code worker-heartbeat} or {@code
   * worker-offline}: {@code freq} seconds between heartbeats, tasks {@code active} and {@code
   * processed}. Routing key {@code worker.heartbeat} and so on.
   */
  public CompletableFuture<Void> worker(String type, double freq, int active, long processed) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("freq", freq);
    event.put("active", active);
    event.put("processed", processed);
    event.put("sw_ident", "lovage");
    event.put("sw_ver", SOFTWARE_VERSION);
    event.put("sw_sys", System.getProperty("os.name"));
    event.set("loadavg", loadAverage());
    return publish("worker-" + type, null, event);
  }

  /**
   * The machine's load averages over 1, 5 and 15 minutes, as Celery's heartbeats carry them (Flower
   * shows them): from /proc/loadavg on Linux, else the one-minute figure the JVM knows.
   */
  static tools.jackson.databind.node.ArrayNode loadAverage() {
    tools.jackson.databind.node.ArrayNode load = Json.MAPPER.createArrayNode();
    try {
      String[] fields =
          java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split("\\s+");
      for (int i = 0; i < 3; i++) {
        load.add(Math.round(Double.parseDouble(fields[i]) * 100) / 100.0);
      }
      return load;
    } catch (java.io.IOException | RuntimeException e) {
      double one =
          java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
      double value = Math.max(0, Math.round(one * 100) / 100.0);
      return load.add(value).add(value).add(value);
    }
  }

  /** Lovage's version, as workers report it ({@code sw_ver}, remote control's {@code report}). */
  public static final String SOFTWARE_VERSION = "0.1.0";

  private CompletableFuture<Void> send(TaskEvent type, String taskId, ObjectNode fields) {
    return publish(type.type(), taskId, fields);
  }

  private CompletableFuture<Void> publish(String type, String taskId, ObjectNode fields) {
    byte[] json = encode(type, taskId, fields);
    String routingKey = TaskEvent.routingKey(type);
    // Revocations travel alone: the revocation stream is bound to their own routing key.
    if (type.startsWith("task-") && !type.equals(TaskEvent.REVOKED.type())) {
      return batches.publish(routingKey, json);
    }
    return broker.publish(
        LovageTopology.EVENT_EXCHANGE,
        routingKey,
        Message.json(json, Map.of("hostname", hostname)));
  }

  /**
   * The event as JSON: Celery's envelope (type, uuid, hostname, utcoffset, pid, clock, timestamp),
   * then the event's own fields; a field of the event's own (a timestamp stamped when it happened)
   * wins over the envelope's. Written straight to a generator, not built as one tree first: this
   * runs once per task on the worker's hot path.
   */
  private byte[] encode(String type, String taskId, ObjectNode fields) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(256);
    try (JsonGenerator json = Json.MAPPER.createGenerator(out)) {
      json.writeStartObject();
      json.writeStringProperty("type", type);
      if (taskId != null) {
        json.writeStringProperty("uuid", taskId);
      }
      json.writeStringProperty("hostname", hostname);
      json.writeNumberProperty("utcoffset", 0);
      json.writeNumberProperty("pid", pid);
      json.writeNumberProperty("clock", lamport.incrementAndGet());
      if (!fields.has("timestamp")) {
        json.writeName("timestamp");
        json.writeNumber(seconds(clock.instant()));
      }
      for (Map.Entry<String, JsonNode> field : fields.properties()) {
        json.writeName(field.getKey());
        write(json, field.getValue());
      }
      json.writeEndObject();
    }
    return out.toByteArray();
  }

  /** Scalars directly; a tree (a task's JSON result, the load averages) through the mapper. */
  private static void write(JsonGenerator json, JsonNode value) {
    switch (value.getNodeType()) {
      case STRING -> json.writeString(value.stringValue());
      case BOOLEAN -> json.writeBoolean(value.booleanValue());
      case NULL, MISSING -> json.writeNull();
      case NUMBER -> {
        if (value.isLong() || value.isInt()) {
          json.writeNumber(value.longValue());
        } else if (value.isDouble()) {
          json.writeNumber(value.doubleValue());
        } else {
          json.writeTree(value);
        }
      }
      default -> json.writeTree(value);
    }
  }

  /** Celery's {@code exception} repr and traceback, with the type, module and message beside. */
  private static ObjectNode errorFields(TaskError error) {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("exception", error.type() + "(" + quoted(error.message()) + ")");
    event.put("exc_type", error.type());
    event.put("exc_module", error.module());
    event.put("exc_message", error.message());
    event.put("traceback", error.traceback());
    return event;
  }

  private static String quoted(String text) {
    return text == null ? "" : "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
