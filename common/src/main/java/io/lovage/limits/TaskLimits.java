package io.lovage.limits;

import io.lovage.RateLimit;
import io.lovage.protocol.Json;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The limits set at run time for one task, fleet-wide: they apply on every worker that runs the
 * task, in place of the limits it was registered with or that the worker's settings give it. A
 * limit not set here ({@code null}) leaves the worker's own.
 *
 * <pre>{@code
 * TaskLimits sms = TaskLimits.of("billing.sms").withRate(RateLimit.parse("50/s"));
 * book.put(sms).join();
 * }</pre>
 *
 * <p>On the wire and over REST: {@code {"task", "rate": "50/s", "scope": "worker" | "global",
 * "at"}}. Concurrency limits ({@code concurrency}, {@code concurrencyKey}) are part of the API but
 * cannot be changed at run time yet: {@link #patched} refuses them.
 *
 * @param task the task's name
 * @param rate its rate limit, on each worker or for the fleet, or null: the worker's own ({@link
 *     RateLimit#NONE}: none, whatever the worker's own is)
 * @param at when these limits were set
 */
public record TaskLimits(String task, RateLimit rate, Instant at) {

  /** Fields of the REST body that are reserved for limits still to come (issue 18). */
  private static final java.util.List<String> NOT_YET =
      java.util.List.of("concurrency", "concurrencyKey");

  public TaskLimits {
    if (task == null || task.isBlank()) {
      throw new IllegalArgumentException("task limits need a task name");
    }
    Objects.requireNonNull(at, "at");
  }

  /** No limit of its own yet for {@code task}. */
  public static TaskLimits of(String task) {
    return new TaskLimits(task, null, Instant.EPOCH);
  }

  /** These limits with this rate ({@code null}: the worker's own). */
  public TaskLimits withRate(RateLimit rate) {
    return new TaskLimits(task, rate, at);
  }

  /** These limits, set at {@code at}. */
  public TaskLimits at(Instant at) {
    return new TaskLimits(task, rate, at);
  }

  /** The rate limit set here, if one is. */
  public Optional<RateLimit> rateLimit() {
    return Optional.ofNullable(rate);
  }

  /** A field of a change that cannot be applied, named as in the JSON, and why. */
  public static final class Invalid extends io.lovage.InvalidField {
    public Invalid(String field, String message) {
      super(field, message);
    }
  }

  /**
   * These limits changed by a REST body, any subset of {@code {"rate", "scope", "concurrency",
   * "concurrencyKey"}}: a field given replaces this one, {@code null} removes it, a field left out
   * keeps it.
   *
   * @throws Invalid naming the field: a rate Celery would not read, an unknown field or scope, a
   *     scope without a rate, and for now a concurrency or a concurrency key
   */
  public TaskLimits patched(JsonNode change) {
    if (change == null || !change.isObject()) {
      throw new Invalid("", "the body must be a JSON object, e.g. {\"rate\": \"50/s\"}");
    }
    for (String field : change.propertyNames()) {
      if (NOT_YET.contains(field) && !change.get(field).isNull()) {
        throw new Invalid(
            field,
            "'"
                + field
                + "' cannot be changed at run time yet: set it with @TaskHandler(concurrency,"
                + " concurrencyKey) or LOVAGE_CONCURRENCY_LIMITS on the workers");
      }
      if (!field.equals("rate") && !field.equals("scope") && !NOT_YET.contains(field)) {
        throw new Invalid(
            field,
            "unknown field '"
                + field
                + "': the limits of a task are rate, scope, concurrency and concurrencyKey");
      }
    }
    RateLimit.Scope scope = scope(change.path("scope"));
    JsonNode rate = change.path("rate");
    if (rate.isNull()) {
      return withRate(null);
    }
    RateLimit changed = this.rate;
    if (!rate.isMissingNode()) {
      if (!rate.isString() && !rate.isNumber()) {
        throw new Invalid(
            "rate", "rate must be a string such as \"50/s\", \"100/m\" or \"1000/h\"");
      }
      try {
        changed = RateLimit.parse(rate.asString());
      } catch (IllegalArgumentException e) {
        throw new Invalid("rate", e.getMessage());
      }
    }
    if (changed == null) {
      if (scope != null) {
        throw new Invalid("scope", "a scope applies to a rate: give 'rate' too");
      }
      return this;
    }
    RateLimit.Scope kept = this.rate == null ? RateLimit.Scope.WORKER : this.rate.scope();
    return withRate(changed.withScope(scope == null ? kept : scope));
  }

  /** The scope a change names, or null when it names none. */
  private static RateLimit.Scope scope(JsonNode scope) {
    if (scope.isMissingNode() || scope.isNull()) {
      return null;
    }
    String value = scope.isString() ? scope.asString() : scope.toString();
    for (RateLimit.Scope candidate : RateLimit.Scope.values()) {
      if (candidate.wire().equals(value)) {
        return candidate;
      }
    }
    throw new Invalid("scope", "scope must be 'worker' or 'global', got '" + value + "'");
  }

  /**
   * As JSON: {@code {"task", "rate", "scope", "at"}}; {@code rate} and {@code scope} null if unset.
   */
  public ObjectNode toJson() {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("task", task);
    json.put("rate", rate == null ? null : rate.toString());
    json.put("scope", rate == null ? null : rate.scope().wire());
    json.put("at", at.toString());
    return json;
  }

  /**
   * From {@link #toJson()}.
   *
   * @throws IllegalArgumentException when the task, the rate or the time is not valid
   */
  public static TaskLimits fromJson(JsonNode json) {
    JsonNode rate = json.path("rate");
    RateLimit.Scope scope = scope(json.path("scope"));
    return new TaskLimits(
        json.path("task").asString(""),
        rate.isMissingNode() || rate.isNull()
            ? null
            : RateLimit.parse(rate.asString())
                .withScope(scope == null ? RateLimit.Scope.WORKER : scope),
        Instant.parse(json.path("at").asString(Instant.EPOCH.toString())));
  }
}
