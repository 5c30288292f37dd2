package io.lovage.broker;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One AMQP message as the broker sees it: body, headers and the basic properties Lovage uses.
 *
 * @param body the payload bytes
 * @param headers the AMQP headers table (values are String, Number, Boolean, List, Map or null)
 * @param contentType e.g. {@code application/json}
 * @param contentEncoding e.g. {@code utf-8}
 * @param correlationId Celery puts the task id here
 * @param replyTo where a result is wanted (Celery's rpc backend), or null
 * @param priority 0–9, or null
 * @param persistent delivery mode 2 when true
 */
public record Message(
    byte[] body,
    Map<String, Object> headers,
    String contentType,
    String contentEncoding,
    String correlationId,
    String replyTo,
    Integer priority,
    boolean persistent) {

  public Message {
    headers =
        headers == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
  }

  /**
   * Headers RabbitMQ (dead-lettering, redelivery, streams) or Lovage (dead-letter reasons) add on
   * the way: they describe one delivery, not the task, and are not carried into a retry or replay.
   */
  private static final java.util.Set<String> DELIVERY_HEADERS =
      java.util.Set.of(
          "x-death",
          "x-delivery-count",
          "x-first-death-exchange",
          "x-first-death-queue",
          "x-first-death-reason",
          "x-last-death-exchange",
          "x-last-death-queue",
          "x-last-death-reason",
          "x-stream-offset");

  public static boolean isDeliveryHeader(String name) {
    return DELIVERY_HEADERS.contains(name) || name.startsWith("x-lovage-");
  }

  /** A persistent UTF-8 JSON message with the given headers. */
  public static Message json(byte[] body, Map<String, Object> headers) {
    return new Message(body, headers, "application/json", "utf-8", null, null, null, true);
  }

  /** A persistent UTF-8 text message without headers (a claim's or a permit's token). */
  public static Message text(String body) {
    return new Message(
        body.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        Map.of(),
        "text/plain",
        "utf-8",
        null,
        null,
        null,
        true);
  }

  /** This message, not written to disk by RabbitMQ: lost if the broker restarts (a rate token). */
  public Message notPersistent() {
    return new Message(
        body, headers, contentType, contentEncoding, correlationId, replyTo, priority, false);
  }

  public Message withHeaders(Map<String, Object> newHeaders) {
    return new Message(
        body,
        newHeaders,
        contentType,
        contentEncoding,
        correlationId,
        replyTo,
        priority,
        persistent);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Message m
        && Arrays.equals(body, m.body)
        && headers.equals(m.headers)
        && java.util.Objects.equals(contentType, m.contentType)
        && java.util.Objects.equals(contentEncoding, m.contentEncoding)
        && java.util.Objects.equals(correlationId, m.correlationId)
        && java.util.Objects.equals(replyTo, m.replyTo)
        && java.util.Objects.equals(priority, m.priority)
        && persistent == m.persistent;
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(body) + headers.hashCode();
  }

  @Override
  public String toString() {
    return "Message[contentType="
        + contentType
        + ", headers="
        + headers
        + ", "
        + body.length
        + " bytes]";
  }
}
