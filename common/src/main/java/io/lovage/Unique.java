package io.lovage;

import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Objects;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Asks that a task be sent only if no equal one is pending or running: a submit while one is
 * answers the existing task's id instead. Equal means the same task name and the same key, either
 * given ({@link #key}) or derived from the arguments ({@link #byArguments}). The claim on the key
 * ends when the task finishes (SUCCESS, FAILURE, REVOKED) or, at the latest, {@code uniqueFor}
 * after it was taken, e.g. when the worker running it died.
 *
 * <pre>{@code
 * TaskMessage report = TaskMessage.builder("reports.build").args(42).build();
 * Unique.Sent sent = client.send(report, "celery", Unique.byArguments()).join();
 * if (sent.replayed()) {
 *   log.info("report 42 is already being built as task {}", sent.id());
 * }
 * }</pre>
 *
 * @param key the key given by the caller, or null to derive it from the task's arguments
 * @param uniqueFor the longest the claim on the key lasts
 */
public record Unique(String key, Duration uniqueFor) {
  /** How long a claim lasts when the caller does not say, in seconds: an hour. */
  public static final long DEFAULT_SECONDS = 3_600;

  /** How long a claim lasts when the caller does not say: {@value #DEFAULT_SECONDS} s. */
  public static final Duration DEFAULT_FOR = Duration.ofSeconds(DEFAULT_SECONDS);

  /**
   * The longest a claim may last: a week (RabbitMQ's message TTL could go to 49 days; a lock that
   * outlives a week is more likely forgotten than meant).
   */
  public static final Duration MAX_FOR = Duration.ofDays(7);

  /** The longest key a caller may give, in characters. */
  public static final int MAX_KEY = 200;

  /**
   * The task message header naming the lock the task holds (the hash of its key), so that whoever
   * sees it finish can release it.
   */
  public static final String HEADER = "lovage_unique";

  /**
   * The header with the lock's {@code uniqueFor} in milliseconds, so that whoever releases it can
   * declare its queues as they were made before reading them.
   */
  public static final String FOR_HEADER = "lovage_unique_for";

  public Unique {
    Objects.requireNonNull(uniqueFor, "uniqueFor");
    if (key != null && (key.isBlank() || key.length() > MAX_KEY)) {
      throw new IllegalArgumentException(
          "a uniqueness key must be 1 to " + MAX_KEY + " characters, got " + key.length());
    }
    if (uniqueFor.toMillis() < 1 || uniqueFor.compareTo(MAX_FOR) > 0) {
      throw new IllegalArgumentException(
          "uniqueFor must be above 0 and at most " + MAX_FOR + ", got " + uniqueFor);
    }
  }

  /** Unique by a key the caller chose, for {@link #DEFAULT_FOR}. */
  public static Unique key(String key) {
    return new Unique(Objects.requireNonNull(key, "key"), DEFAULT_FOR);
  }

  /** Unique by the task's arguments (args and kwargs), for {@link #DEFAULT_FOR}. */
  public static Unique byArguments() {
    return new Unique(null, DEFAULT_FOR);
  }

  /** This uniqueness, lasting at most {@code duration}. */
  public Unique lasting(Duration duration) {
    return new Unique(key, duration);
  }

  /**
   * The lock this message takes: the SHA-256 (hex) of its task name and key, the key being the
   * given one or the arguments as canonical JSON (object fields sorted), so {@code {"a":1,"b":2}}
   * and {@code {"b":2,"a":1}} are the same task. Numbers count as written: 1 and 1.0 differ.
   */
  public String lockFor(TaskMessage message) {
    String identity =
        key != null
            ? "key\n" + key
            : "args\n" + canonical(message.args()) + "\n" + canonical(message.kwargs());
    return sha256(message.task() + "\n" + identity);
  }

  /** JSON with every object's fields in sorted order, so equal values have equal text. */
  static String canonical(JsonNode value) {
    return Json.MAPPER.writeValueAsString(sorted(value));
  }

  private static JsonNode sorted(JsonNode value) {
    if (value instanceof ObjectNode object) {
      ObjectNode out = Json.MAPPER.createObjectNode();
      object.propertyNames().stream().sorted().forEach(n -> out.set(n, sorted(object.get(n))));
      return out;
    }
    if (value instanceof ArrayNode array) {
      ArrayNode out = Json.MAPPER.createArrayNode();
      array.values().forEach(item -> out.add(sorted(item)));
      return out;
    }
    return value;
  }

  private static String sha256(String text) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /**
   * What a unique send did.
   *
   * @param id the id of the task that holds the key: the new one, or the one that was there
   * @param replayed true when an equal task was pending or running and nothing was sent
   * @param sent the message as sent, or null when replayed
   */
  public record Sent(String id, boolean replayed, TaskMessage sent) {}
}
