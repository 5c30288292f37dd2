package io.lovage.broker;

/**
 * The kind of RabbitMQ queue Lovage declares for a task queue.
 *
 * <p>QUORUM, the default, is replicated and has a delivery limit: a message that kills its worker
 * every time ends in the dead-letter queue instead of looping. CLASSIC is what Celery declares by
 * default; use it for queues that Python Celery 5.2 workers consume (they ask for global QoS, which
 * quorum queues refuse) or where priorities 0–9 are needed.
 */
public enum QueueType {
  QUORUM,
  CLASSIC;

  /** {@code quorum} or {@code classic}, as in {@code LOVAGE_QUEUE_TYPE}. */
  public static QueueType parse(String text) {
    if (text == null || text.isBlank()) {
      return QUORUM;
    }
    return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "quorum" -> QUORUM;
      case "classic" -> CLASSIC;
      default ->
          throw new IllegalArgumentException(
              "queue type must be 'quorum' or 'classic', got '" + text + "'");
    };
  }

  public String argument() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
