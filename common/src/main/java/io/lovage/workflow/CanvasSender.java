package io.lovage.workflow;

import io.lovage.TaskClient;
import io.lovage.TaskError;
import io.lovage.broker.Broker;
import io.lovage.broker.LovageTopology;
import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.RpcReplies;
import io.lovage.result.TaskEvents;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Sends a canvas (Celery's signature dict: a task, chain, group or chord) as task messages, the way
 * Celery's client and worker do, and records the tasks of a canvas that will never run.
 *
 * <ul>
 *   <li>a task: one message; the value before it (a parent's result) goes first in its args;
 *   <li>a chain: its first task, with the rest in embed {@code chain}, last step first;
 *   <li>a group: every member, with headers {@code group} and {@code group_index};
 *   <li>a chord: every header task with the body in embed {@code chord} (the body's id fixed, its
 *       {@code chord_size} set); each header task's worker reports to the chord queue and the
 *       joining worker sends the body. A group followed by more steps is a chord, as in Celery.
 * </ul>
 *
 * Ids a canvas does not fix are derived from the ids it does, so a canvas sent again (its sender
 * ran twice) sends the same task ids rather than a second workflow.
 */
public final class CanvasSender {
  private static final Logger log = LoggerFactory.getLogger(CanvasSender.class);

  private final Broker broker;
  private final TaskClient client;
  private final TaskEvents events;
  private final Clock clock;

  public CanvasSender(Broker broker, TaskClient client, TaskEvents events, Clock clock) {
    this.broker = broker;
    this.client = client;
    this.events = events;
    this.clock = clock;
  }

  /**
   * Sends {@code signature}; completes once every message it sends is confirmed.
   *
   * @param first the value that goes before its args (the previous step's result), or null
   * @param later the chain steps after it, last step first
   * @param parent the task it follows (for {@code parent_id} and {@code root_id}), or null
   * @param queue where a task goes whose signature names no queue
   */
  public CompletableFuture<Void> send(
      JsonNode signature, JsonNode first, List<JsonNode> later, TaskMessage parent, String queue) {
    String kind = SignatureDict.kind(signature);
    if (SignatureDict.CHAIN.equals(kind)) {
      List<JsonNode> tasks = SignatureDict.tasks(signature);
      if (tasks.isEmpty()) {
        return later.isEmpty()
            ? CompletableFuture.completedFuture(null)
            : send(later.getLast(), first, later.subList(0, later.size() - 1), parent, queue);
      }
      List<JsonNode> flattened = new ArrayList<>(later);
      for (int i = tasks.size() - 1; i >= 1; i--) {
        flattened.add(tasks.get(i));
      }
      return send(tasks.getFirst(), first, flattened, parent, queue);
    }
    if (SignatureDict.GROUP.equals(kind) && !later.isEmpty()) {
      // `group | task` is a chord (Celery's client upgrades it the same way).
      return sendChord(
          SignatureDict.tasks(signature), chainOf(later), groupId(signature), first, parent, queue);
    }
    if (SignatureDict.GROUP.equals(kind)) {
      return sendGroup(signature, first, parent, queue);
    }
    if (SignatureDict.CHORD.equals(kind)) {
      JsonNode body = SignatureDict.body(signature);
      if (!later.isEmpty()) {
        List<JsonNode> bodyThenLater = new ArrayList<>(later);
        bodyThenLater.add(body);
        body = chainOf(bodyThenLater);
      }
      return sendChord(
          SignatureDict.header(signature), body, groupId(signature), first, parent, queue);
    }
    return sendTask(signature, first, later, parent, queue);
  }

  private CompletableFuture<Void> sendTask(
      JsonNode signature, JsonNode first, List<JsonNode> later, TaskMessage parent, String queue) {
    TaskMessage.Builder builder = SignatureDict.message(signature, first, clock.instant());
    if (parent != null) {
      builder.parentId(parent.id()).rootId(parent.rootId());
    }
    TaskMessage base = builder.build();
    TaskMessage message = base.toBuilder().embed(withChain(base.embed(), later)).build();
    String target = SignatureDict.queue(signature);
    return client.send(message, target != null ? target : queue).thenApply(sent -> null);
  }

  private CompletableFuture<Void> sendGroup(
      JsonNode signature, JsonNode first, TaskMessage parent, String queue) {
    String group = groupId(signature);
    List<JsonNode> members = SignatureDict.tasks(signature);
    List<CompletableFuture<Void>> sent = new ArrayList<>();
    for (int i = 0; i < members.size(); i++) {
      JsonNode member = withOptions(members.get(i), Map.of("group_id", group, "group_index", i));
      sent.add(send(member, first, List.of(), parent, queue));
    }
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
  }

  /**
   * Every header task carries the body in embed {@code chord}, with the chord's group id and its
   * index; a header member that is a chain carries them on its last step, the one that reports.
   */
  private CompletableFuture<Void> sendChord(
      List<JsonNode> header,
      JsonNode bodySignature,
      String group,
      JsonNode first,
      TaskMessage parent,
      String queue) {
    ObjectNode body = frozen(bodySignature, derived(group, "body"));
    body.put("chord_size", header.size());
    if (header.isEmpty()) {
      return send(body, Json.MAPPER.createArrayNode(), List.of(), parent, queue);
    }
    log.debug(
        "chord sent group={} size={} body_id={}",
        group,
        header.size(),
        SignatureDict.taskId(SignatureDict.firstTask(body)));
    List<CompletableFuture<Void>> sent = new ArrayList<>();
    for (int i = 0; i < header.size(); i++) {
      JsonNode member = frozen(header.get(i), derived(group, String.valueOf(i)));
      Map<String, Object> chordOptions = Map.of("group_id", group, "group_index", i, "chord", body);
      sent.add(send(onLastTask(member, chordOptions), first, List.of(), parent, queue));
    }
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
  }

  /**
   * Records every task {@code signature} stands for as FAILURE with {@code error}, answers those
   * with a {@code reply_to}, and reports the failure to a chord a task was to report to.
   */
  public CompletableFuture<Void> fail(JsonNode signature, TaskError error, TaskMessage parent) {
    return forEachTask(
        signature,
        parent,
        task ->
            CompletableFuture.allOf(
                events.failedUnrun(task, error),
                reply(task, () -> RpcReplies.failure(broker, task, error)),
                reportToChord(task, error)));
  }

  /** Like {@link #fail}, with state REVOKED: the chain ended with a revoked or expired step. */
  public CompletableFuture<Void> revoke(JsonNode signature, String reason, TaskMessage parent) {
    TaskError error = new TaskError("TaskRevokedError", "celery.exceptions", reason, null);
    return forEachTask(
        signature,
        parent,
        task ->
            CompletableFuture.allOf(
                events.revoked(task, reason, false),
                reply(task, () -> RpcReplies.revoked(broker, task, reason)),
                reportToChord(task, error)));
  }

  /**
   * A header task's outcome, to the chord queue, if {@code task} is the reporting task of a chord
   * member: its result, or (error not null) its failure.
   */
  public CompletableFuture<Void> reportToChord(
      TaskMessage task, JsonNode result, TaskError error, String queue) {
    JsonNode body = task.embed().path("chord");
    Object index = task.extraHeaders().get("group_index");
    if (!body.isObject() || task.group() == null) {
      return CompletableFuture.completedFuture(null);
    }
    if (!(index instanceof Number n)) {
      log.error(
          "a chord's header task without group_index, the chord cannot join task_id={} group={}",
          task.id(),
          task.group());
      return CompletableFuture.completedFuture(null);
    }
    ChordParts part =
        new ChordParts(
            task.group(),
            body.path("chord_size").asInt(0),
            body,
            task.rootId(),
            queue != null ? queue : LovageTopology.DEFAULT_QUEUE,
            error == null ? Map.of(n.intValue(), result) : Map.of(),
            error == null ? null : new ChordParts.Failure(n.intValue(), task.id(), error));
    return broker.publish("", LovageTopology.CHORD_QUEUE, part.toMessage());
  }

  private CompletableFuture<Void> reportToChord(TaskMessage task, TaskError error) {
    return reportToChord(task, null, error, null);
  }

  /** Sends the errbacks ({@code options.link_error}) of a signature, with the failed task's id. */
  public CompletableFuture<Void> sendErrbacks(JsonNode signature, String failedId, String queue) {
    JsonNode links = signature.path("options").path("link_error");
    List<JsonNode> errbacks = new ArrayList<>();
    if (links.isObject()) {
      errbacks.add(links);
    } else if (links.isArray()) {
      links.forEach(errbacks::add);
    }
    return CompletableFuture.allOf(
        errbacks.stream()
            .map(
                errback ->
                    send(
                        errback,
                        Json.MAPPER.getNodeFactory().stringNode(failedId),
                        List.of(),
                        null,
                        queue))
            .toArray(CompletableFuture[]::new));
  }

  private CompletableFuture<Void> forEachTask(
      JsonNode signature,
      TaskMessage parent,
      Function<TaskMessage, CompletableFuture<Void>> record) {
    List<TaskMessage> tasks = new ArrayList<>();
    collect(signature, parent, tasks);
    return CompletableFuture.allOf(tasks.stream().map(record).toArray(CompletableFuture[]::new));
  }

  /** The tasks a signature stands for that have a fixed id (nobody can wait on the others). */
  private void collect(JsonNode signature, TaskMessage parent, List<TaskMessage> into) {
    String kind = SignatureDict.kind(signature);
    if (SignatureDict.CHAIN.equals(kind) || SignatureDict.GROUP.equals(kind)) {
      SignatureDict.tasks(signature).forEach(s -> collect(s, parent, into));
    } else if (SignatureDict.CHORD.equals(kind)) {
      SignatureDict.header(signature).forEach(s -> collect(s, parent, into));
      collect(SignatureDict.body(signature), parent, into);
    } else if (SignatureDict.taskId(signature) != null && signature.path("task").isString()) {
      TaskMessage.Builder task = SignatureDict.message(signature, null, clock.instant());
      if (parent != null) {
        task.parentId(parent.id()).rootId(parent.rootId());
      }
      into.add(task.build());
    }
  }

  /** A reply to whoever waits on {@code reply_to}, best effort: a caller may have gone away. */
  private static CompletableFuture<Void> reply(
      TaskMessage task, java.util.function.Supplier<CompletableFuture<Void>> send) {
    if (task.replyTo() == null) {
      return CompletableFuture.completedFuture(null);
    }
    return send.get()
        .exceptionally(
            error -> {
              log.debug(
                  "reply not delivered task_id={} reply_to={} error={}",
                  task.id(),
                  task.replyTo(),
                  error.toString());
              return null;
            });
  }

  /**
   * The one task message that starts a workflow made of a chain (or a single task) whose first step
   * is a task: that task, with the chain's later steps in its embed as Celery's client sends a
   * chain. Every task gets an id derived from {@code id} (the first task {@code id} itself), so the
   * same {@code id} gives the same message. Empty when the workflow starts with a group or a chord,
   * which takes several messages.
   */
  public static java.util.Optional<TaskMessage.Builder> start(
      JsonNode workflow, String id, Instant now) {
    JsonNode first = freeze(frozen(workflow, id), null);
    List<JsonNode> later = new ArrayList<>(); // last step first
    while (SignatureDict.CHAIN.equals(SignatureDict.kind(first))) {
      List<JsonNode> tasks = SignatureDict.tasks(first);
      if (tasks.isEmpty()) {
        return java.util.Optional.empty();
      }
      for (int i = tasks.size() - 1; i >= 1; i--) {
        later.add(tasks.get(i));
      }
      first = tasks.getFirst();
    }
    if (SignatureDict.kind(first) != null) {
      return java.util.Optional.empty();
    }
    TaskMessage base = SignatureDict.message(first, null, now).id(id).build();
    return java.util.Optional.of(base.toBuilder().embed(withChain(base.embed(), later)));
  }

  /** A chain's signature dict of these steps, given last step first. */
  public static ObjectNode chainOf(List<JsonNode> lastFirst) {
    ObjectNode chain = Json.MAPPER.createObjectNode();
    chain.put("task", "celery.chain");
    chain.putArray("args");
    ArrayNode tasks = chain.putObject("kwargs").putArray("tasks");
    for (int i = lastFirst.size() - 1; i >= 0; i--) {
      tasks.add(lastFirst.get(i));
    }
    chain.putObject("options");
    chain.put("subtask_type", SignatureDict.CHAIN);
    chain.put("immutable", false);
    return chain;
  }

  private static ObjectNode withChain(ObjectNode base, List<JsonNode> later) {
    ObjectNode embed = base.deepCopy();
    if (later.isEmpty()) {
      embed.putNull("chain");
    } else {
      ArrayNode chain = embed.putArray("chain");
      later.forEach(chain::add);
    }
    return embed;
  }

  /** The group's id: its options' {@code group_id}, its frozen id, or a new one. */
  private static String groupId(JsonNode signature) {
    JsonNode options = signature.path("options");
    String id = options.path("group_id").asString(null);
    if (id == null) {
      id = options.path("task_id").asString(null);
    }
    return id != null ? id : UUID.randomUUID().toString();
  }

  /** An id derived from another: the same inputs give the same id. */
  public static String derived(String base, String part) {
    return UUID.nameUUIDFromBytes((base + "/" + part).getBytes(StandardCharsets.UTF_8)).toString();
  }

  /**
   * A copy of a canvas as a client sends it (Celery's {@code freeze}): every task without an id
   * gets a new one, every group a {@code group_id}, and every task the {@code reply_to} of the
   * client that waits for the results.
   */
  public static ObjectNode freeze(JsonNode signature, String replyTo) {
    ObjectNode copy = (ObjectNode) signature.deepCopy();
    String kind = SignatureDict.kind(copy);
    if (SignatureDict.CHAIN.equals(kind) || SignatureDict.GROUP.equals(kind)) {
      ArrayNode tasks = (ArrayNode) copy.path("kwargs").path("tasks");
      for (int i = 0; i < tasks.size(); i++) {
        tasks.set(i, freeze(tasks.get(i), replyTo));
      }
      if (SignatureDict.GROUP.equals(kind) && !options(copy).has("group_id")) {
        options(copy).put("group_id", UUID.randomUUID().toString());
      }
    } else if (SignatureDict.CHORD.equals(kind)) {
      ObjectNode kwargs = (ObjectNode) copy.path("kwargs");
      ArrayNode header = (ArrayNode) kwargs.path("header");
      for (int i = 0; i < header.size(); i++) {
        header.set(i, freeze(header.get(i), replyTo));
      }
      kwargs.set("body", freeze(kwargs.path("body"), replyTo));
      if (!options(copy).has("group_id")) {
        options(copy).put("group_id", UUID.randomUUID().toString());
      }
    } else {
      if (SignatureDict.taskId(copy) == null) {
        options(copy).put("task_id", UUID.randomUUID().toString());
      }
      if (replyTo != null) {
        options(copy).put("reply_to", replyTo);
      }
    }
    return copy;
  }

  /** A copy in which every task without a fixed id gets one derived from {@code base}. */
  private static ObjectNode frozen(JsonNode signature, String base) {
    ObjectNode copy = (ObjectNode) signature.deepCopy();
    String kind = SignatureDict.kind(copy);
    if (SignatureDict.CHAIN.equals(kind) || SignatureDict.GROUP.equals(kind)) {
      ArrayNode tasks = (ArrayNode) copy.path("kwargs").path("tasks");
      for (int i = 0; i < tasks.size(); i++) {
        tasks.set(i, frozen(tasks.get(i), derived(base, String.valueOf(i))));
      }
    } else if (kind == null && SignatureDict.taskId(copy) == null) {
      options(copy).put("task_id", base);
    }
    return copy;
  }

  /** A copy with these options on the task that reports its outcome: itself, or a chain's last. */
  private static JsonNode onLastTask(JsonNode signature, Map<String, Object> extra) {
    if (SignatureDict.CHAIN.equals(SignatureDict.kind(signature))) {
      ObjectNode copy = (ObjectNode) signature.deepCopy();
      ArrayNode tasks = (ArrayNode) copy.path("kwargs").path("tasks");
      if (!tasks.isEmpty()) {
        tasks.set(tasks.size() - 1, onLastTask(tasks.get(tasks.size() - 1), extra));
        return copy;
      }
    }
    return withOptions(signature, extra);
  }

  private static ObjectNode withOptions(JsonNode signature, Map<String, Object> extra) {
    ObjectNode copy = (ObjectNode) signature.deepCopy();
    ObjectNode options = options(copy);
    extra.forEach((key, value) -> options.set(key, Json.MAPPER.valueToTree(value)));
    return copy;
  }

  private static ObjectNode options(ObjectNode signature) {
    if (!signature.path("options").isObject()) {
      signature.putObject("options");
    }
    return (ObjectNode) signature.get("options");
  }
}
