package io.lovage.worker;

import io.lovage.TaskError;
import io.lovage.protocol.TaskMessage;
import io.lovage.workflow.CanvasSender;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

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

  private final CanvasSender sender;

  Chains(CanvasSender sender) {
    this.sender = sender;
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
    log.debug("chain continues task_id={} steps_left={}", step.id(), rest.size());
    return sender.send(rest.getLast(), result, rest.subList(0, rest.size() - 1), step, queue);
  }

  /** Records every remaining step FAILURE with the error of the step that failed for good. */
  CompletableFuture<Void> afterFailure(TaskMessage step, TaskError error) {
    List<JsonNode> rest = rest(step);
    return rest.isEmpty()
        ? CompletableFuture.completedFuture(null)
        : sender.fail(remaining(rest), error, step);
  }

  /** Records every remaining step REVOKED: the chain ends with the step (revoked or expired). */
  CompletableFuture<Void> afterRevoked(TaskMessage step, String reason) {
    List<JsonNode> rest = rest(step);
    return rest.isEmpty()
        ? CompletableFuture.completedFuture(null)
        : sender.revoke(remaining(rest), reason, step);
  }

  private static JsonNode remaining(List<JsonNode> rest) {
    return CanvasSender.chainOf(rest);
  }
}
