package io.lovage.worker;

import io.lovage.TaskRegistry.TaskDefinition;
import io.lovage.TimeLimits;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import tools.jackson.databind.JsonNode;

/**
 * Time limits set for a task type on this worker by remote control (Celery's {@code time_limit}):
 * they replace the limits the task was registered with, for its tasks started from then on, until
 * the worker stops (Celery keeps them in memory too). A message's own {@code timelimit} header
 * still wins, as in Celery.
 */
final class TimeLimitOverrides {
  private final Map<String, TimeLimits> byTask = new ConcurrentHashMap<>();

  void set(String task, TimeLimits limits) {
    byTask.put(task, limits);
  }

  /** The definition as this worker runs it now: with the limits set for its task, if any. */
  TaskDefinition applyTo(TaskDefinition definition) {
    TimeLimits limits = byTask.get(definition.name());
    return limits == null
        ? definition
        : new TaskDefinition(
            definition.name(), definition.task(), definition.options().withTimeLimits(limits));
  }

  /**
   * Celery's {@code soft} and {@code hard} arguments, in seconds: a number, or null or left out for
   * none; 0 is none too, as in Celery. Without a hard limit a task gets {@link
   * TimeLimits#DEFAULT_HARD}, which is also the highest accepted: a task must be settled before
   * RabbitMQ's {@code consumer_timeout} (30 min) closes its channel.
   *
   * @throws IllegalArgumentException for a value that is not a number of seconds >= 0, a hard limit
   *     above the default, or a soft limit not below the hard one (it would never fire)
   */
  static TimeLimits fromSeconds(JsonNode soft, JsonNode hard) {
    Duration softLimit = seconds("soft", soft);
    Duration hardLimit = seconds("hard", hard);
    if (hardLimit != null && hardLimit.compareTo(TimeLimits.DEFAULT_HARD) > 0) {
      throw new IllegalArgumentException(
          "hard="
              + hard
              + " s is above "
              + TimeLimits.DEFAULT_HARD.toSeconds()
              + " s: a task must be settled before RabbitMQ's consumer_timeout (30 min) closes"
              + " its channel");
    }
    TimeLimits limits = TimeLimits.of(softLimit, hardLimit);
    if (softLimit != null && softLimit.compareTo(limits.hardOrDefault()) >= 0) {
      throw new IllegalArgumentException(
          "soft="
              + soft
              + " s must be below the hard limit of "
              + limits.hardOrDefault().toMillis() / 1000.0
              + " s");
    }
    return limits;
  }

  private static Duration seconds(String name, JsonNode value) {
    if (value == null || value.isMissingNode() || value.isNull()) {
      return null;
    }
    if (!value.isNumber() || value.doubleValue() < 0 || Double.isInfinite(value.doubleValue())) {
      throw new IllegalArgumentException(
          name + " must be a number of seconds >= 0 (0 or null: none), got " + value);
    }
    double seconds = value.doubleValue();
    return seconds == 0 ? null : Duration.ofNanos(Math.max(1, Math.round(seconds * 1e9)));
  }
}
