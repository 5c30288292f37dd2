package io.lovage;

import io.lovage.broker.Broker;
import io.lovage.broker.LovageTopology;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import io.lovage.result.TaskEvents;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends tasks from Java. A task counts as sent once RabbitMQ has confirmed its message.
 *
 * <pre>{@code
 * TaskClient client = new TaskClient(broker, "billing-service");
 * TaskMessage sent = client.send(TaskMessage.builder("demo.add").args(2, 3).build()).join();
 * }</pre>
 *
 * <p>A queue is declared the first time a task is sent to it, as Celery does with {@code
 * task_create_missing_queues}.
 */
public final class TaskClient {
  private static final Logger log = LoggerFactory.getLogger(TaskClient.class);

  private final Broker broker;
  private final String origin;
  private final TaskEvents events;
  private final Set<String> declared = ConcurrentHashMap.newKeySet();

  public TaskClient(Broker broker, String origin) {
    this.broker = broker;
    this.origin = origin;
    this.events = new TaskEvents(broker, origin, Clock.systemUTC());
    broker.declare(LovageTopology.events());
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
    if (declared.add(queue)) {
      try {
        broker.declare(LovageTopology.taskQueue(queue));
      } catch (RuntimeException e) {
        declared.remove(queue);
        return CompletableFuture.failedFuture(e);
      }
    }
    TaskMessage sent = message.origin() == null ? withOrigin(message) : message;
    return broker
        .publish(LovageTopology.TASK_EXCHANGE, queue, TaskMessageCodec.encode(sent))
        .thenApply(
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

  private TaskMessage withOrigin(TaskMessage m) {
    return new TaskMessage(
        m.id(),
        m.task(),
        m.args(),
        m.kwargs(),
        m.embed(),
        m.rootId(),
        m.parentId(),
        m.group(),
        m.retries(),
        m.eta(),
        m.expires(),
        m.timeLimit(),
        m.argsrepr(),
        m.kwargsrepr(),
        origin,
        m.replyTo(),
        m.priority(),
        m.extraHeaders());
  }
}
