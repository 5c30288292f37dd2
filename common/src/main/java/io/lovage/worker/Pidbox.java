package io.lovage.worker;

import io.lovage.RateLimit;
import io.lovage.TimeLimits;
import io.lovage.broker.Broker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.Subscription;
import io.lovage.broker.Topology;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.TaskEvents;
import io.lovage.worker.process.ProcessPool;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Celery's remote control (kombu's pidbox), so that {@code celery inspect}, {@code celery control}
 * and Flower see and steer Lovage workers beside Celery's. Requests come through the fanout
 * exchange {@code celery.pidbox} into this worker's queue {@code <hostname>.celery.pidbox}; a
 * request with {@code destination} answers only if it names this worker; a reply goes to the {@code
 * reply_to} exchange and routing key, with the request's {@code ticket} header, as {@code
 * {"<hostname>": answer}}. Exchanges and queue are declared as kombu declares them (transient), so
 * neither side gets PRECONDITION_FAILED.
 *
 * <p>Inspect: {@code ping}, {@code stats}, {@code registered}, {@code active}, {@code reserved},
 * {@code scheduled}, {@code revoked}, {@code active_queues}, {@code query_task}, {@code conf},
 * {@code report}. Control: {@code revoke} and {@code terminate} (into Lovage's durable revocations,
 * so it also reaches workers that start later), {@code shutdown} (as SIGTERM), {@code heartbeat},
 * {@code enable_events}, {@code disable_events}, {@code add_consumer}, {@code cancel_consumer},
 * {@code pool_grow}, {@code pool_shrink} and {@code autoscale} (on the process pool, see {@link
 * PoolControl}), {@code time_limit} (see {@link TimeLimitOverrides}), {@code rate_limit} (this
 * worker's limit, as Celery's, see {@link RateLimiter}). Any other command answers {@code {"error":
 * …}} and the worker goes on.
 */
final class Pidbox implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Pidbox.class);

  static final String EXCHANGE = io.lovage.TaskClient.PIDBOX_EXCHANGE;
  static final String REPLY_EXCHANGE = "reply.celery.pidbox";

  /** Celery's worker pidbox queue: requests kept 300 s, the queue 10 s after its worker left. */
  private static final Map<String, Object> QUEUE_ARGUMENTS =
      Map.of("x-message-ttl", 300_000, "x-expires", 10_000);

  private static final java.util.regex.Pattern QUEUE_NAME =
      java.util.regex.Pattern.compile("[A-Za-z0-9._:-]{1,200}");

  private final Broker broker;
  private final Worker worker;
  private final TaskEvents events;
  private final Clock clock;
  private final Instant startedAt;
  private final AtomicLong lamport = new AtomicLong();
  private final PoolControl poolControl;
  private Subscription subscription;

  Pidbox(Broker broker, Worker worker, TaskEvents events, Clock clock) {
    this.broker = broker;
    this.worker = worker;
    this.poolControl = new PoolControl(worker);
    this.events = events;
    this.clock = clock;
    this.startedAt = clock.instant();
  }

  String queue() {
    return worker.settings().name() + ".celery.pidbox";
  }

  static Topology topology(String queue) {
    return new Topology(
        List.of(
            new Topology.Exchange(EXCHANGE, "fanout", false),
            new Topology.Exchange(REPLY_EXCHANGE, "direct", false)),
        List.of(new Topology.Queue(queue, false, QUEUE_ARGUMENTS)),
        List.of(new Topology.Binding(EXCHANGE, queue, "")));
  }

  void start() {
    try {
      broker.declare(topology(queue()));
    } catch (io.lovage.broker.BrokerException e) {
      // The queue is exclusive: a live worker with the same name (same pid on the same host
      // name, e.g. two containers sharing a hostname) holds it. This one runs its tasks all the
      // same, without answering remote control.
      log.error(
          "remote control is off for this worker: another connection holds its queue {}"
              + " error=\"{}\"",
          queue(),
          e.getMessage());
      return;
    }
    subscription = broker.consume(queue(), ConsumeOptions.prefetch(10), this::onRequest);
  }

  private void onRequest(Delivery delivery) {
    try {
      JsonNode request = Json.MAPPER.readTree(delivery.message().body());
      if (!isForMe(request) || expired(delivery.message())) {
        return;
      }
      String method = request.path("method").asString("");
      JsonNode arguments = request.path("arguments");
      JsonNode answer;
      try {
        answer = handle(method, arguments.isObject() ? arguments : Json.MAPPER.createObjectNode());
      } catch (RuntimeException e) {
        log.warn("remote control command failed method={} error={}", method, e.toString());
        answer = error(method + ": " + e.getMessage());
      }
      JsonNode replyTo = request.path("reply_to");
      if (replyTo.isObject()) {
        reply(replyTo, request.path("ticket").asString(null), answer);
      }
    } catch (JacksonException e) {
      log.warn("skipping a remote control request that is not JSON error={}", e.getMessage());
    } finally {
      delivery.ack();
    }
  }

  private boolean isForMe(JsonNode request) {
    JsonNode destination = request.path("destination");
    if (!destination.isArray() || destination.isEmpty()) {
      return true;
    }
    for (JsonNode name : destination) {
      if (worker.settings().name().equals(name.asString(""))) {
        return true;
      }
    }
    return false;
  }

  private boolean expired(Message message) {
    Object expires = message.headers().get("expires");
    return expires instanceof Number at && at.doubleValue() * 1000 < clock.millis();
  }

  private JsonNode handle(String method, JsonNode arguments) {
    return switch (method) {
      case "ping" -> ok("pong");
      case "registered" -> registered(arguments.path("taskinfoitems"));
      case "active" -> activeRequests();
      case "reserved", "scheduled" -> Json.MAPPER.createArrayNode();
      case "revoked" -> Json.MAPPER.valueToTree(worker.revokedIds());
      case "stats" -> stats();
      case "active_queues" -> activeQueues();
      case "query_task" -> queryTask(arguments);
      case "conf" -> conf();
      case "report" -> ok("lovage " + TaskEvents.SOFTWARE_VERSION + " worker " + name());
      case "revoke" -> revoke(arguments, arguments.path("terminate").asBoolean(false));
      // `celery control terminate <signal> <id>`: a revoke with terminate.
      case "terminate" -> revoke(arguments, true);
      case "heartbeat" -> {
        events.worker(
            "heartbeat",
            Worker.HEARTBEAT.toMillis() / 1000.0,
            worker.stats().active(),
            processed());
        yield ok("heartbeat sent");
      }
      case "shutdown" -> {
        // After the reply is out: the caller learns the worker heard it.
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Thread.sleep(200);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                  worker.shutdownRequested();
                });
        yield ok("shutdown signal sent");
      }
      case "add_consumer" -> {
        String queue = arguments.path("queue").asString("");
        if (!QUEUE_NAME.matcher(queue).matches()) {
          yield error("add_consumer needs a queue name, got '" + queue + "'");
        }
        yield worker.addConsumer(queue)
            ? ok("add consumer " + queue)
            : ok("already consuming from " + queue);
      }
      case "cancel_consumer" -> {
        String queue = arguments.path("queue").asString("");
        yield worker.cancelConsumer(queue)
            ? ok("no longer consuming from " + queue)
            : error("not consuming from " + queue);
      }
      case "pool_grow" -> poolControl.grow(arguments);
      case "pool_shrink" -> poolControl.shrink(arguments);
      case "autoscale" -> poolControl.autoscale(arguments);
      case "time_limit" -> timeLimit(arguments);
      case "rate_limit" -> rateLimit(arguments);
      case "enable_events" -> ok("task events already enabled");
      case "disable_events" ->
          error("Lovage workers always send task events: task states live in the event stream");
      default -> error("unknown command '" + method + "'");
    };
  }

  /**
   * Celery's {@code time_limit}: {@code {"task_name", "soft", "hard"}}, seconds, for the task's
   * runs that start from now on; Celery's answers.
   */
  private JsonNode timeLimit(JsonNode arguments) {
    String task = arguments.path("task_name").asString("");
    if (!worker.taskNames().contains(task)) {
      log.info("time limits not set by remote control: unknown task task={}", task);
      return error("unknown task");
    }
    TimeLimits limits;
    try {
      limits = TimeLimitOverrides.fromSeconds(arguments.path("soft"), arguments.path("hard"));
    } catch (IllegalArgumentException e) {
      return error("time_limit: " + e.getMessage());
    }
    worker.timeLimitOverrides().set(task, limits);
    log.info(
        "time limits set by remote control task={} soft={} hard={}",
        task,
        limits.soft(),
        limits.hardOrDefault());
    return ok("time limits set successfully");
  }

  /**
   * Celery's {@code rate_limit}: {@code {"task_name", "rate_limit"}}, the rate as Celery writes it
   * ({@code "10/s"}, a number of tasks per second, or 0 or empty for none), on this worker from now
   * on, for the tasks it holds already too; Celery's answers.
   */
  private JsonNode rateLimit(JsonNode arguments) {
    JsonNode value = arguments.path("rate_limit");
    RateLimit limit;
    try {
      limit =
          value.isNumber()
              ? RateLimit.perSecond(value.doubleValue())
              : RateLimit.parse(value.isString() ? value.asString() : null);
    } catch (IllegalArgumentException e) {
      return error("Invalid rate limit string: " + e.getMessage());
    }
    String task = arguments.path("task_name").asString("");
    if (!worker.taskNames().contains(task)) {
      log.warn("rate limit not set by remote control: unknown task task={}", task);
      return error("unknown task");
    }
    worker.rateLimiter().set(task, limit);
    if (!limit.isLimited()) {
      log.info("rate limit disabled by remote control task={}", task);
      return ok("rate limit disabled successfully");
    }
    log.info("rate limit set by remote control task={} rate_limit={}", task, limit);
    return ok("new rate limit set successfully");
  }

  /**
   * Celery's {@code registered}: the task names, each followed by the attributes of {@code
   * taskinfoitems} it has ({@code exchange}, {@code routing_key}, {@code rate_limit} by default),
   * as {@code "billing.sms [rate_limit=50/s]"}; here only a rate limit can be there.
   */
  private ArrayNode registered(JsonNode taskinfoitems) {
    boolean rateLimits = true;
    if (taskinfoitems.isArray() && !taskinfoitems.isEmpty()) {
      rateLimits = false;
      for (JsonNode item : taskinfoitems) {
        rateLimits |= "rate_limit".equals(item.asString(""));
      }
    }
    ArrayNode list = Json.MAPPER.createArrayNode();
    for (String task : worker.taskNames()) {
      RateLimit limit = worker.rateLimiter().limitOf(task);
      list.add(rateLimits && limit.isLimited() ? task + " [rate_limit=" + limit + "]" : task);
    }
    return list;
  }

  private JsonNode revoke(JsonNode arguments, boolean terminate) {
    JsonNode ids = arguments.path("task_id");
    List<String> revoked = idsIn(ids);
    if (arguments.path(io.lovage.TaskClient.REVOCATION_RECORDED).asBoolean(false)) {
      // Sent by a Lovage client that recorded it in the revocation stream, which this worker reads.
      return ok("tasks " + String.join(", ", revoked) + " flagged as revoked");
    }
    for (String id : revoked) {
      events.revoke(
          id,
          null,
          terminate ? "revoked and terminated by remote control" : "revoked by remote control",
          false,
          terminate);
    }
    log.info("revoked by remote control task_ids={} terminate={}", revoked, terminate);
    return ok("tasks " + String.join(", ", revoked) + " flagged as revoked");
  }

  /** Celery sends one task id as a string, several as a list. */
  private static List<String> idsIn(JsonNode ids) {
    List<String> list = new ArrayList<>();
    if (ids.isArray()) {
      ids.forEach(id -> list.add(id.asString()));
    } else if (ids.isString()) {
      list.add(ids.asString());
    }
    return list;
  }

  private ArrayNode activeRequests() {
    ArrayNode list = Json.MAPPER.createArrayNode();
    worker.activeTasks().forEach(active -> list.add(request(active)));
    return list;
  }

  /** A running task as Celery's {@code inspect active} shows a request. */
  private ObjectNode request(Worker.Active active) {
    TaskMessage message = active.message();
    ObjectNode request = Json.MAPPER.createObjectNode();
    request.put("id", message.id());
    request.put("name", message.task());
    request.set("args", message.args());
    request.set("kwargs", message.kwargs());
    request.put("type", message.task());
    request.put("hostname", name());
    request.put("time_start", active.started().toEpochMilli() / 1000.0);
    request.put("acknowledged", false);
    ObjectNode delivery = request.putObject("delivery_info");
    delivery.put("exchange", LovageTopology.TASK_EXCHANGE);
    delivery.put("routing_key", active.queue());
    delivery.put("priority", message.priority() == null ? 0 : message.priority());
    delivery.put("redelivered", false);
    request.put("worker_pid", ProcessHandle.current().pid());
    return request;
  }

  private JsonNode queryTask(JsonNode arguments) {
    JsonNode ids = arguments.path("ids");
    List<String> wanted = idsIn(ids);
    ObjectNode found = Json.MAPPER.createObjectNode();
    for (Worker.Active active : worker.activeTasks()) {
      if (wanted.contains(active.message().id())) {
        ArrayNode entry = found.putArray(active.message().id());
        entry.add("active");
        entry.add(request(active));
      }
    }
    return found;
  }

  private ObjectNode stats() {
    Worker.Stats stats = worker.stats();
    ObjectNode json = Json.MAPPER.createObjectNode();
    ObjectNode total = json.putObject("total");
    worker.processedByTask().forEach(total::put);
    json.put("pid", ProcessHandle.current().pid());
    json.put("clock", String.valueOf(lamport.get()));
    json.put("uptime", (clock.millis() - startedAt.toEpochMilli()) / 1000);
    ObjectNode pool = json.putObject("pool");
    pool.put("implementation", "lovage (virtual threads, CPU pool, child processes)");
    pool.put("max-concurrency", worker.concurrency());
    pool.put("io-concurrency", worker.settings().ioConcurrency());
    pool.put("cpu-concurrency", worker.settings().cpuConcurrency());
    pool.put("process-children", stats.processChildren());
    // Celery lists its pool's child pids; here the worker's own JVM runs IO and CPU tasks too.
    ArrayNode processes = pool.putArray("processes").add(ProcessHandle.current().pid());
    worker.processPool().ifPresent(processPool -> describe(processPool, json, pool, processes));
    json.put(
        "prefetch_count",
        worker.settings().queues().stream().mapToInt(q -> worker.settings().prefetch(q)).sum());
    ObjectNode brokerInfo = json.putObject("broker");
    brokerInfo.put("transport", "amqp");
    json.putObject("rusage");
    ObjectNode lovage = json.putObject("lovage");
    lovage.put("succeeded", stats.succeeded());
    lovage.put("failed", stats.failed());
    lovage.put("retried", stats.retried());
    lovage.put("rejected", stats.rejected());
    lovage.put("active", stats.active());
    lovage.put("rate_limited", stats.rateLimited());
    lovage.put("concurrency_limited", stats.concurrencyLimited());
    return json;
  }

  /**
   * The process pool in {@code stats}: its bounds and its children's pids in {@code pool}, and the
   * bounds as Celery's autoscaler reports itself, {@code qty} being the tasks that want a child.
   */
  private void describe(
      ProcessPool processPool, ObjectNode json, ObjectNode pool, ArrayNode processes) {
    ProcessPool.Bounds bounds = processPool.bounds();
    pool.put("process-min", bounds.min());
    pool.put("process-max", bounds.max());
    int maxTasks = worker.settings().processes().maxTasksPerChild();
    if (maxTasks > 0) {
      pool.put("max-tasks-per-child", maxTasks);
    } else {
      pool.put("max-tasks-per-child", "N/A");
    }
    processPool.pids().forEach(processes::add);
    ObjectNode autoscaler = json.putObject("autoscaler");
    autoscaler.put("max", bounds.max());
    autoscaler.put("min", bounds.min());
    autoscaler.put("current", processPool.children());
    autoscaler.put("qty", processPool.active() + processPool.waiting());
  }

  private ArrayNode activeQueues() {
    ArrayNode list = Json.MAPPER.createArrayNode();
    for (String queue : worker.consumedQueues()) {
      ObjectNode q = list.addObject();
      q.put("name", queue);
      ObjectNode exchange = q.putObject("exchange");
      exchange.put("name", LovageTopology.TASK_EXCHANGE);
      exchange.put("type", "direct");
      exchange.put("durable", true);
      q.put("routing_key", queue);
      q.put("durable", true);
      q.put("exclusive", false);
      q.put("auto_delete", false);
      q.put("no_ack", false);
      ObjectNode arguments = q.putObject("queue_arguments");
      arguments.put("x-queue-type", worker.settings().queueType().name().toLowerCase());
    }
    return list;
  }

  private ObjectNode conf() {
    ObjectNode conf = Json.MAPPER.createObjectNode();
    conf.put("worker_concurrency", worker.concurrency());
    conf.put("task_acks_late", true);
    conf.put("task_serializer", "json");
    conf.put("accept_content", "json");
    conf.put("worker_send_task_events", true);
    conf.put("task_default_queue", LovageTopology.DEFAULT_QUEUE);
    return conf;
  }

  private long processed() {
    Worker.Stats stats = worker.stats();
    return stats.succeeded() + stats.failed() + stats.retried();
  }

  private void reply(JsonNode replyTo, String ticket, JsonNode answer) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.set(name(), answer);
    Map<String, Object> headers =
        ticket == null
            ? Map.of("clock", lamport.incrementAndGet())
            : Map.of("ticket", ticket, "clock", lamport.incrementAndGet());
    Message message =
        new Message(
            Json.MAPPER.writeValueAsBytes(body),
            headers,
            "application/json",
            "utf-8",
            null,
            null,
            0,
            false);
    broker
        .publish(
            replyTo.path("exchange").asString(REPLY_EXCHANGE),
            replyTo.path("routing_key").asString(""),
            message)
        .exceptionally(
            error -> {
              // The caller stopped waiting (its reply queue is gone): not an error.
              log.debug("remote control reply not delivered error={}", error.toString());
              return null;
            });
  }

  private String name() {
    return worker.settings().name();
  }

  static ObjectNode ok(String text) {
    ObjectNode ok = Json.MAPPER.createObjectNode();
    ok.put("ok", text);
    return ok;
  }

  static ObjectNode error(String text) {
    ObjectNode error = Json.MAPPER.createObjectNode();
    error.put("error", text);
    return error;
  }

  @Override
  public void close() {
    if (subscription != null) {
      subscription.close();
    }
  }
}
