package io.lovage.worker;

import io.lovage.TaskClient;
import io.lovage.TaskError;
import io.lovage.broker.Broker;
import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.RpcReplies;
import io.lovage.result.TaskEvents;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Celery's chain on the wire: a step's embed {@code chain} holds the signatures of the steps after
 * it, <em>last step first</em> (the worker pops from the end). After a step succeeds its worker
 * sends the next step with the result before its args (unless immutable), {@code parent_id} = the
 * step, {@code root_id} = the step's root, and the rest of the chain; when a step fails for good,
 * is revoked or expires, every remaining step is recorded with the same outcome under its own id
 * and answered on its {@code reply_to}, so whoever waits on the chain's result learns it.
 *
 * <p>The worker acknowledges a step only once what this class sends is confirmed.
 */
final class Chains {
  private static final Logger log = LoggerFactory.getLogger(Chains.class);

  private final Broker broker;
  private final TaskClient client;
  private final TaskEvents events;
  private final Clock clock;

  Chains(Broker broker, TaskClient client, TaskEvents events, Clock clock) {
    this.broker = broker;
    this.client = client;
    this.events = events;
    this.clock = clock;
  }

  /** The steps after this one, last step first; empty when it is not a chain's step. */
  static List<JsonNode> rest(TaskMessage step) {
    JsonNode chain = step.embed().path("chain");
    List<JsonNode> rest = new ArrayList<>();
    if (chain.isArray()) {
      chain.forEach(rest::add);
    }
    return rest;
  }

  /** Sends the next step, if any, with the step's result. */
  CompletableFuture<Void> afterSuccess(TaskMessage step, JsonNode result, String queue) {
    List<JsonNode> rest = rest(step);
    if (rest.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    JsonNode next = rest.getLast();
    return apply(next, rest.subList(0, rest.size() - 1), step, result, queue);
  }

  /** Records every remaining step FAILURE with the error of the step that failed for good. */
  CompletableFuture<Void> afterFailure(TaskMessage step, TaskError error) {
    return forEachRemaining(
        step,
        remaining ->
            CompletableFuture.allOf(
                events.failedUnrun(remaining, error),
                reply(remaining, () -> RpcReplies.failure(broker, remaining, error))));
  }

  /** Records every remaining step REVOKED: the chain ends with the step (revoked or expired). */
  CompletableFuture<Void> afterRevoked(TaskMessage step, String reason) {
    return forEachRemaining(
        step,
        remaining ->
            CompletableFuture.allOf(
                events.revoked(remaining, reason, false),
                reply(remaining, () -> RpcReplies.revoked(broker, remaining, reason))));
  }

  /**
   * Sends {@code signature}, the next step, with {@code later} as its chain. A nested chain is
   * flattened into this one; a group sends its members, each with the result.
   */
  private CompletableFuture<Void> apply(
      JsonNode signature, List<JsonNode> later, TaskMessage parent, JsonNode result, String queue) {
    String kind = SignatureDict.kind(signature);
    if (SignatureDict.CHAIN.equals(kind)) {
      List<JsonNode> tasks = SignatureDict.tasks(signature);
      if (tasks.isEmpty()) {
        return later.isEmpty()
            ? CompletableFuture.completedFuture(null)
            : apply(later.getLast(), later.subList(0, later.size() - 1), parent, result, queue);
      }
      List<JsonNode> flattened = new ArrayList<>(later);
      for (int i = tasks.size() - 1; i >= 1; i--) {
        flattened.add(tasks.get(i));
      }
      return apply(tasks.getFirst(), flattened, parent, result, queue);
    }
    if (kind != null) {
      // A group or chord as a later step: Celery's client makes `group | task` a chord; both
      // need the chord join, which a chain step cannot hand on yet. The chain ends here, loudly.
      TaskError error =
          new TaskError(
              "NotImplementedError",
              "builtins",
              "a "
                  + kind
                  + " as a step after "
                  + parent.task()
                  + " in a chain is not supported by Lovage workers yet",
              null);
      log.error("chain step not supported, chain ends task_id={} kind={}", parent.id(), kind);
      TaskMessage failing = parent.toBuilder().embed(chainOf(later, signature)).build();
      return afterFailure(failing, error);
    }
    TaskMessage base =
        SignatureDict.message(signature, result, clock.instant())
            .parentId(parent.id())
            .rootId(parent.rootId())
            .build();
    TaskMessage next = base.toBuilder().embed(withChain(base.embed(), later)).build();
    String target = SignatureDict.queue(signature);
    log.debug("chain step sent task_id={} next_id={} next={}", parent.id(), next.id(), next.task());
    return client.send(next, target != null ? target : queue).thenApply(sent -> null);
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

  /** An embed whose chain is {@code later} then {@code next} (so {@code next} is popped first). */
  private static ObjectNode chainOf(List<JsonNode> later, JsonNode next) {
    ObjectNode embed = Json.MAPPER.createObjectNode();
    ArrayNode chain = embed.putArray("chain");
    later.forEach(chain::add);
    chain.add(next);
    return embed;
  }

  private CompletableFuture<Void> forEachRemaining(
      TaskMessage step, java.util.function.Function<TaskMessage, CompletableFuture<Void>> record) {
    List<TaskMessage> remaining = new ArrayList<>();
    List<JsonNode> rest = rest(step);
    for (int i = rest.size() - 1; i >= 0; i--) {
      collect(rest.get(i), step, remaining);
    }
    if (!remaining.isEmpty()) {
      log.info(
          "chain ends, remaining steps recorded task_id={} remaining={}",
          step.id(),
          remaining.stream().map(TaskMessage::id).toList());
    }
    return CompletableFuture.allOf(
        remaining.stream().map(record).toArray(CompletableFuture[]::new));
  }

  /** The tasks a signature stands for, those with a frozen id (nobody can wait on the others). */
  private void collect(JsonNode signature, TaskMessage step, List<TaskMessage> into) {
    String kind = SignatureDict.kind(signature);
    if (SignatureDict.CHAIN.equals(kind) || SignatureDict.GROUP.equals(kind)) {
      SignatureDict.tasks(signature).forEach(s -> collect(s, step, into));
    } else if (SignatureDict.CHORD.equals(kind)) {
      SignatureDict.header(signature).forEach(s -> collect(s, step, into));
      collect(SignatureDict.body(signature), step, into);
    } else if (SignatureDict.taskId(signature) != null && signature.path("task").isString()) {
      into.add(
          SignatureDict.message(signature, null, clock.instant())
              .parentId(step.id())
              .rootId(step.rootId())
              .embed(null)
              .build());
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
}
