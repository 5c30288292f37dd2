package io.lovage.protocol;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One invocation of a task on the wire: Celery message protocol v2 with the JSON content type.
 *
 * <p>Headers carry the task's name, id and options; the body is {@code [args, kwargs, embed]}.
 * Headers and embed keys Lovage does not know are kept ({@link #extraHeaders()}, {@link #embed()})
 * and written back unchanged, so a message passes through Lovage without losing anything.
 *
 * <pre>{@code
 * TaskMessage message = TaskMessage.builder("demo.add").args(2, 3).build();
 * }</pre>
 *
 * @param timeLimit Celery's {@code timelimit} header: soft and hard limits in seconds, each
 *     optional
 */
public record TaskMessage(
    String id,
    String task,
    ArrayNode args,
    ObjectNode kwargs,
    ObjectNode embed,
    String rootId,
    String parentId,
    String group,
    int retries,
    Instant eta,
    Instant expires,
    TimeLimit timeLimit,
    String argsrepr,
    String kwargsrepr,
    String origin,
    String replyTo,
    Integer priority,
    Map<String, Object> extraHeaders) {

  /** Celery's header that asks the worker not to record the task's result. */
  public static final String IGNORE_RESULT = "ignore_result";

  /** Whether the sender asked for no result ({@link Builder#ignoreResult}). */
  public boolean ignoresResult() {
    return Boolean.TRUE.equals(extraHeaders.get(IGNORE_RESULT));
  }

  /** Soft and hard time limits in seconds; null means none. */
  public record TimeLimit(Double soft, Double hard) {
    public static final TimeLimit NONE = new TimeLimit(null, null);
  }

  public TaskMessage {
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("a task message needs an id");
    }
    if (task == null || task.isBlank()) {
      throw new IllegalArgumentException("a task message needs a task name");
    }
    args = args == null ? Json.MAPPER.createArrayNode() : args;
    kwargs = kwargs == null ? Json.MAPPER.createObjectNode() : kwargs;
    embed = embed == null ? defaultEmbed() : embed;
    timeLimit = timeLimit == null ? TimeLimit.NONE : timeLimit;
    extraHeaders =
        extraHeaders == null
            ? Map.of()
            : Collections.unmodifiableMap(new LinkedHashMap<>(extraHeaders));
  }

  static ObjectNode defaultEmbed() {
    ObjectNode embed = Json.MAPPER.createObjectNode();
    embed.putNull("callbacks");
    embed.putNull("errbacks");
    embed.putNull("chain");
    embed.putNull("chord");
    return embed;
  }

  /** This message with another {@code origin} header. */
  public TaskMessage withOrigin(String newOrigin) {
    return toBuilder().origin(newOrigin).build();
  }

  /** The next try of this task: the same id, {@code retries} one higher, due at {@code eta}. */
  public TaskMessage retried(Instant nextEta) {
    return toBuilder().retries(retries + 1).eta(nextEta).build();
  }

  /** This message with another {@code reply_to} property. */
  public TaskMessage withReplyTo(String newReplyTo) {
    return toBuilder().replyTo(newReplyTo).build();
  }

  /** A builder holding everything of this message, its reprs included, to change a few fields. */
  public Builder toBuilder() {
    Builder b = new Builder(task);
    b.id = id;
    b.args = args;
    b.kwargs = kwargs;
    b.embed = embed;
    b.rootId = rootId;
    b.parentId = parentId;
    b.group = group;
    b.retries = retries;
    b.eta = eta;
    b.expires = expires;
    b.timeLimit = timeLimit;
    b.argsrepr = argsrepr;
    b.kwargsrepr = kwargsrepr;
    b.origin = origin;
    b.replyTo = replyTo;
    b.priority = priority;
    b.extraHeaders.putAll(extraHeaders);
    return b;
  }

  public static Builder builder(String task) {
    return new Builder(task);
  }

  /** Many fields are optional; the builder fills Celery's defaults (new id, root id = id). */
  public static final class Builder {
    private final String task;

    /**
     * Null until set or built: the first {@link #build()} draws a new one, so a copy ({@link
     * TaskMessage#toBuilder()}) does not draw one only to drop it.
     */
    private String id;

    private ArrayNode args = Json.MAPPER.createArrayNode();
    private ObjectNode kwargs = Json.MAPPER.createObjectNode();
    private ObjectNode embed;
    private String rootId;
    private String parentId;
    private String group;
    private int retries;
    private Instant eta;
    private Instant expires;
    private TimeLimit timeLimit = TimeLimit.NONE;
    private String origin;
    private String argsrepr;
    private String kwargsrepr;
    private String replyTo;
    private Integer priority;
    private final Map<String, Object> extraHeaders = new LinkedHashMap<>();

    private Builder(String task) {
      this.task = task;
    }

    public Builder id(String id) {
      this.id = id;
      return this;
    }

    public Builder args(Object... values) {
      this.argsrepr = null;
      this.args = Json.MAPPER.valueToTree(values);
      return this;
    }

    public Builder args(ArrayNode args) {
      this.argsrepr = null;
      this.args = args == null ? Json.MAPPER.createArrayNode() : args;
      return this;
    }

    public Builder kwargs(Map<String, ?> values) {
      this.kwargsrepr = null;
      this.kwargs = Json.MAPPER.valueToTree(values);
      return this;
    }

    public Builder kwargs(ObjectNode kwargs) {
      this.kwargsrepr = null;
      this.kwargs = kwargs == null ? Json.MAPPER.createObjectNode() : kwargs;
      return this;
    }

    public Builder embed(ObjectNode embed) {
      this.embed = embed;
      return this;
    }

    /** Celery's {@code link}: called with this task's result when it succeeds. */
    public Builder link(io.lovage.Signature callback) {
      return addTo("callbacks", callback);
    }

    /** Celery's {@code link_error}: called with this task's id when it fails for good. */
    public Builder linkError(io.lovage.Signature errback) {
      return addTo("errbacks", errback);
    }

    private Builder addTo(String key, io.lovage.Signature signature) {
      // A copy: the embed may be shared with the message this builder came from.
      embed = embed == null ? defaultEmbed() : embed.deepCopy();
      if (!embed.path(key).isArray()) {
        embed.putArray(key);
      }
      ((tools.jackson.databind.node.ArrayNode) embed.get(key)).add(signature.toJson());
      return this;
    }

    public Builder rootId(String rootId) {
      this.rootId = rootId;
      return this;
    }

    public Builder parentId(String parentId) {
      this.parentId = parentId;
      return this;
    }

    public Builder group(String group) {
      this.group = group;
      return this;
    }

    public Builder retries(int retries) {
      this.retries = retries;
      return this;
    }

    public Builder eta(Instant eta) {
      this.eta = eta;
      return this;
    }

    public Builder expires(Instant expires) {
      this.expires = expires;
      return this;
    }

    public Builder timeLimit(TimeLimit timeLimit) {
      this.timeLimit = timeLimit;
      return this;
    }

    public Builder origin(String origin) {
      this.origin = origin;
      return this;
    }

    public Builder replyTo(String replyTo) {
      this.replyTo = replyTo;
      return this;
    }

    public Builder priority(Integer priority) {
      this.priority = priority;
      return this;
    }

    /**
     * Celery's {@code ignore_result}: no result is recorded or replied, and no state is kept: the
     * client sends no task-sent event, the worker no received, started or succeeded events (a
     * failure is still recorded).
     */
    public Builder ignoreResult(boolean ignore) {
      return header(IGNORE_RESULT, ignore);
    }

    public Builder header(String name, Object value) {
      this.extraHeaders.put(name, value);
      return this;
    }

    public TaskMessage build() {
      if (id == null) {
        id = UUID.randomUUID().toString();
      }
      return new TaskMessage(
          id,
          task,
          args,
          kwargs,
          embed,
          rootId == null ? id : rootId,
          parentId,
          group,
          retries,
          eta,
          expires,
          timeLimit,
          argsrepr == null ? PythonRepr.of(args) : argsrepr,
          kwargsrepr == null ? PythonRepr.of(kwargs) : kwargsrepr,
          origin,
          replyTo,
          priority,
          extraHeaders);
    }
  }
}
