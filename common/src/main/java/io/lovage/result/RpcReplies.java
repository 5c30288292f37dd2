package io.lovage.result;

import io.lovage.TaskError;
import io.lovage.TaskFailedException;
import io.lovage.broker.Broker;
import io.lovage.broker.Message;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Celery's {@code rpc://} result protocol: the worker publishes the outcome to the task's {@code
 * reply_to} queue through the default exchange, with the task id as correlation id, and the body
 * {@code {"task_id", "status", "result", "traceback", "children"}}. A failure's result is {@code
 * {"exc_type", "exc_message": [...], "exc_module"}}. Python Celery clients read these replies as
 * they read a Python worker's, and so does {@link io.lovage.TaskClient}.
 */
public final class RpcReplies {
  private RpcReplies() {}

  public static CompletableFuture<Void> success(Broker broker, TaskMessage task, JsonNode result) {
    return send(broker, task, "SUCCESS", result, null);
  }

  public static CompletableFuture<Void> failure(Broker broker, TaskMessage task, TaskError error) {
    ObjectNode exception = Json.MAPPER.createObjectNode();
    exception.put("exc_type", error.type());
    exception.putArray("exc_message").add(error.message());
    exception.put("exc_module", error.module());
    return send(broker, task, "FAILURE", exception, error.traceback());
  }

  /**
   * A revoked task, as Celery's worker answers one: status REVOKED with {@code TaskRevokedError},
   * which a Celery client raises from {@code get()}.
   */
  public static CompletableFuture<Void> revoked(Broker broker, TaskMessage task, String reason) {
    ObjectNode exception = Json.MAPPER.createObjectNode();
    exception.put("exc_type", "TaskRevokedError");
    exception.putArray("exc_message").add(reason);
    exception.put("exc_module", "celery.exceptions");
    return send(broker, task, "REVOKED", exception, null);
  }

  private static CompletableFuture<Void> send(
      Broker broker, TaskMessage task, String status, JsonNode result, String traceback) {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("task_id", task.id());
    body.put("status", status);
    body.set("result", result);
    body.put("traceback", traceback);
    body.putArray("children");
    Message reply =
        new Message(
            Json.MAPPER.writeValueAsBytes(body),
            Map.of(),
            "application/json",
            "utf-8",
            task.id(),
            null,
            0,
            false);
    return broker.publish("", task.replyTo(), reply);
  }

  /**
   * The outcome in a reply: empty for a state that is not final (STARTED, RETRY), the result for
   * SUCCESS, a {@link TaskFailedException} for FAILURE and REVOKED.
   */
  public static Optional<Outcome> read(JsonNode body, String correlationId) {
    String id = body.path("task_id").asString(correlationId);
    String status = body.path("status").asString("");
    JsonNode result = body.path("result");
    return switch (status) {
      case "SUCCESS" -> Optional.of(new Outcome(id, result, null));
      case "FAILURE", "REVOKED" -> {
        String type =
            result
                .path("exc_type")
                .asString("REVOKED".equals(status) ? "TaskRevokedError" : "Exception");
        JsonNode message = result.path("exc_message");
        String text =
            message.isArray()
                ? String.join(", ", message.valueStream().map(JsonNode::asString).toList())
                : message.asString("");
        yield Optional.of(
            new Outcome(
                id,
                null,
                new TaskFailedException(id, type, text, body.path("traceback").asString(null))));
      }
      default -> Optional.empty();
    };
  }

  /** A final reply: a result, or an error. */
  public record Outcome(String taskId, JsonNode result, TaskFailedException error) {}
}
