package io.lovage.worker;

import io.lovage.Signature;
import io.lovage.TaskClient;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;

/**
 * Celery's {@code link} and {@code link_error}: the signatures in a message's embed {@code
 * callbacks} run with the task's result as first argument when it succeeds, those in {@code
 * errbacks} with its id when it fails for good. They are sent as tasks of their own (child of the
 * task), confirmed before the task's message is acknowledged.
 */
final class Callbacks {
  private final TaskClient client;

  Callbacks(TaskClient client) {
    this.client = client;
  }

  CompletableFuture<Void> afterSuccess(TaskMessage parent, JsonNode result, String queue) {
    return send(parent, Signature.listIn(parent.embed(), "callbacks"), result, queue);
  }

  CompletableFuture<Void> afterFailure(TaskMessage parent, String queue) {
    return send(
        parent,
        Signature.listIn(parent.embed(), "errbacks"),
        Json.MAPPER.getNodeFactory().stringNode(parent.id()),
        queue);
  }

  private CompletableFuture<Void> send(
      TaskMessage parent, List<Signature> signatures, JsonNode first, String queue) {
    return CompletableFuture.allOf(
        signatures.stream()
            .map(
                signature -> {
                  ArrayNode args = signature.args().deepCopy();
                  if (!signature.immutable()) {
                    args.insert(0, first);
                  }
                  TaskMessage child =
                      TaskMessage.builder(signature.task())
                          .args(args)
                          .kwargs(signature.kwargs())
                          .parentId(parent.id())
                          .rootId(parent.rootId())
                          .build();
                  return client.send(child, signature.queue() != null ? signature.queue() : queue);
                })
            .toArray(CompletableFuture[]::new));
  }
}
