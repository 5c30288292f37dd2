package io.lovage.limits;

import io.lovage.ConcurrencyLimit;
import io.lovage.RateLimit;
import io.lovage.protocol.Json;
import java.time.Instant;
import java.util.List;
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
 * "concurrency": 2, "concurrencyKey": "customer_id", "at"}}. A new concurrency limit applies to the
 * tasks that start after it: its permits are queues of their own, so tasks running under the old
 * limit finish under it.
 *
 * @param task the task's name
 * @param rate its rate limit, on each worker or for the fleet, or null: the worker's own ({@link
 *     RateLimit#NONE}: none, whatever the worker's own is)
 * @param concurrency its concurrency limit across the fleet, or null: the worker's own ({@link
 *     ConcurrencyLimit#NONE}: none)
 * @param at when these limits were set
 */
public record TaskLimits(String task, RateLimit rate, ConcurrencyLimit concurrency, Instant at) {

  private static final List<String> FIELDS =
      List.of("rate", "scope", "concurrency", "concurrencyKey");

  public TaskLimits {
    if (task == null || task.isBlank()) {
      throw new IllegalArgumentException("task limits need a task name");
    }
    Objects.requireNonNull(at, "at");
  }

  /** No limit of its own yet for {@code task}. */
  public static TaskLimits of(String task) {
    return new TaskLimits(task, null, null, Instant.EPOCH);
  }

  /** These limits with this rate ({@code null}: the worker's own). */
  public TaskLimits withRate(RateLimit rate) {
    return new TaskLimits(task, rate, concurrency, at);
  }

  /** These limits with this concurrency limit ({@code null}: the worker's own). */
  public TaskLimits withConcurrency(ConcurrencyLimit concurrency) {
    return new TaskLimits(task, rate, concurrency, at);
  }

  /** These limits, set at {@code at}. */
  public TaskLimits at(Instant at) {
    return new TaskLimits(task, rate, concurrency, at);
  }

  /** The rate limit set here, if one is. */
  public Optional<RateLimit> rateLimit() {
    return Optional.ofNullable(rate);
  }

  /** The concurrency limit set here, if one is. */
  public Optional<ConcurrencyLimit> concurrencyLimit() {
    return Optional.ofNullable(concurrency);
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
   *     scope without a rate, a concurrency that is not a whole number from 0, a key without a
   *     concurrency
   */
  public TaskLimits patched(JsonNode change) {
    if (change == null || !change.isObject()) {
      throw new Invalid("", "the body must be a JSON object, e.g. {\"rate\": \"50/s\"}");
    }
    for (String field : change.propertyNames()) {
      if (!FIELDS.contains(field)) {
        throw new Invalid(
            field,
            "unknown field '"
                + field
                + "': the limits of a task are rate, scope, concurrency and concurrencyKey");
      }
    }
    return withRate(patchedRate(change)).withConcurrency(patchedConcurrency(change));
  }

  private RateLimit patchedRate(JsonNode change) {
    RateLimit.Scope scope = scope(change.path("scope"));
    JsonNode rate = change.path("rate");
    if (rate.isNull()) {
      return null;
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
      return null;
    }
    RateLimit.Scope kept = this.rate == null ? RateLimit.Scope.WORKER : this.rate.scope();
    return changed.withScope(scope == null ? kept : scope);
  }

  private ConcurrencyLimit patchedConcurrency(JsonNode change) {
    JsonNode permits = change.path("concurrency");
    JsonNode key = change.path("concurrencyKey");
    if (permits.isNull()) {
      return null;
    }
    if (!permits.isMissingNode() && !(permits.isIntegralNumber() && permits.asLong() >= 0)) {
      throw new Invalid(
          "concurrency",
          "concurrency must be a whole number: how many may run at once, 0 for no limit");
    }
    if (!key.isMissingNode() && !key.isNull() && !(key.isString() && isArgumentName(key))) {
      throw new Invalid(
          "concurrencyKey",
          "concurrencyKey must be the name of an argument of the task, e.g. \"customer_id\"");
    }
    if (permits.isMissingNode() && concurrency == null) {
      if (!key.isMissingNode()) {
        throw new Invalid(
            "concurrencyKey", "a key applies to a concurrency: give 'concurrency' too");
      }
      return null;
    }
    int count = permits.isMissingNode() ? concurrency.permits() : permits.asInt();
    String keyName =
        key.isMissingNode() ? (concurrency == null ? "" : concurrency.key()) : key.asString("");
    return new ConcurrencyLimit(count, keyName, -1);
  }

  private static boolean isArgumentName(JsonNode key) {
    return key.asString().matches("[A-Za-z_][A-Za-z0-9_]{0,99}");
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
   * As JSON: {@code {"task", "rate", "scope", "concurrency", "concurrencyKey", "at"}}; a limit not
   * set here is null, and so is the key of a concurrency per task.
   */
  public ObjectNode toJson() {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("task", task);
    json.put("rate", rate == null ? null : rate.toString());
    json.put("scope", rate == null ? null : rate.scope().wire());
    if (concurrency == null) {
      json.putNull("concurrency");
    } else {
      json.put("concurrency", concurrency.permits());
    }
    json.put(
        "concurrencyKey",
        concurrency == null || !concurrency.isPerKey() ? null : concurrency.key());
    json.put("at", at.toString());
    return json;
  }

  /**
   * From {@link #toJson()}.
   *
   * @throws IllegalArgumentException when the task, a limit or the time is not valid
   */
  public static TaskLimits fromJson(JsonNode json) {
    JsonNode rate = json.path("rate");
    RateLimit.Scope scope = scope(json.path("scope"));
    JsonNode permits = json.path("concurrency");
    return new TaskLimits(
        json.path("task").asString(""),
        rate.isMissingNode() || rate.isNull()
            ? null
            : RateLimit.parse(rate.asString())
                .withScope(scope == null ? RateLimit.Scope.WORKER : scope),
        permits.isMissingNode() || permits.isNull()
            ? null
            : new ConcurrencyLimit(permits.asInt(), json.path("concurrencyKey").asString(""), -1),
        Instant.parse(json.path("at").asString(Instant.EPOCH.toString())));
  }
}
