package io.lovage.worker;

import io.lovage.TaskError;
import io.lovage.broker.Broker;
import io.lovage.broker.Delivery;
import io.lovage.broker.LovageTopology;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a message that will not run (again) to its queue's dead-letter stream, with headers saying
 * why, and only then acknowledges it. If that publish fails, the delivery is rejected instead, and
 * the queue's own dead-letter exchange takes it: the message is never simply dropped.
 */
final class DeadLetters {
  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

  static final String REASON = "x-lovage-reason";
  static final String ORIGINAL_QUEUE = "x-lovage-original-queue";
  static final String FAILED_AT = "x-lovage-failed-at";
  static final String WORKER = "x-lovage-worker";
  static final String ATTEMPTS = "x-lovage-attempts";
  static final String EXCEPTION_TYPE = "x-lovage-exception-type";
  static final String EXCEPTION_MESSAGE = "x-lovage-exception-message";
  static final String TRACEBACK = "x-lovage-traceback";

  /** Stack traces in dead-letter headers are cut to this many characters. */
  static final int TRACEBACK_EXCERPT = 2_000;

  /**
   * Why a message is dead: a reason, the error if a task raised one, and how often it was tried.
   */
  record DeadLetter(String reason, TaskError error, long attempts) {}

  private final Broker broker;
  private final String worker;
  private final Clock clock;

  DeadLetters(Broker broker, String worker, Clock clock) {
    this.broker = broker;
    this.worker = worker;
    this.clock = clock;
  }

  /** Completes once the delivery is settled (acknowledged after the copy, or rejected). */
  CompletableFuture<Void> send(Delivery delivery, DeadLetter dead) {
    return send(delivery, delivery.queue(), dead);
  }

  /**
   * Moves a message RabbitMQ dead-lettered (into {@link LovageTopology#brokerDeadLetterQueue}) to
   * the task queue's dead-letter stream, with the reason from its {@code x-death} header.
   */
  CompletableFuture<Void> moveFromBroker(Delivery delivery, String queue) {
    String reason = "dead-lettered by RabbitMQ";
    long count = 0;
    if (delivery.message().headers().get("x-death") instanceof java.util.List<?> deaths
        && !deaths.isEmpty()
        && deaths.get(0) instanceof Map<?, ?> death) {
      reason += ": " + death.get("reason");
      if ("delivery_limit".equals(String.valueOf(death.get("reason")))) {
        reason += " (the worker running it died each time)";
      }
      count = death.get("count") instanceof Number n ? n.longValue() : 0;
    }
    Object deliveries = delivery.message().headers().get("x-delivery-count");
    long attempts = deliveries instanceof Number n ? n.longValue() + 1 : count;
    return send(delivery, queue, new DeadLetter(reason, null, attempts));
  }

  private CompletableFuture<Void> send(Delivery delivery, String queue, DeadLetter dead) {
    Map<String, Object> headers = new LinkedHashMap<>(delivery.message().headers());
    headers.put(REASON, dead.reason());
    headers.put(ORIGINAL_QUEUE, queue);
    headers.put(FAILED_AT, clock.instant().toString());
    headers.put(WORKER, worker);
    headers.put(ATTEMPTS, dead.attempts());
    if (dead.error() != null) {
      headers.put(EXCEPTION_TYPE, dead.error().type());
      headers.put(EXCEPTION_MESSAGE, dead.error().message());
      String trace = dead.error().traceback();
      headers.put(
          TRACEBACK,
          trace == null || trace.length() <= TRACEBACK_EXCERPT
              ? trace
              : trace.substring(0, TRACEBACK_EXCERPT));
    }
    return broker
        .publish("", LovageTopology.deadLetterQueue(queue), delivery.message().withHeaders(headers))
        .handle(
            (ok, error) -> {
              if (error == null) {
                log.warn("dead-lettered queue={} reason=\"{}\"", delivery.queue(), dead.reason());
                delivery.ack();
              } else {
                log.error(
                    "dead-letter publish failed, rejecting to the queue's dead-letter exchange"
                        + " queue={} reason=\"{}\" error={}",
                    delivery.queue(),
                    dead.reason(),
                    error.toString());
                delivery.reject();
              }
              return null;
            });
  }
}
