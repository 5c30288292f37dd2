package io.lovage.producer;

import io.lovage.protocol.Json;
import io.lovage.schedule.Schedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * {@code LOVAGE_SCHEDULER} and {@code LOVAGE_SCHEDULES}, read with errors that say what is wrong.
 */
final class ScheduleSettings {
  private ScheduleSettings() {}

  /** {@code on} (the default) or {@code off}. */
  static boolean isOn(String setting) {
    return switch (setting == null ? "" : setting.trim().toLowerCase(Locale.ROOT)) {
      case "", "on", "true", "yes", "1" -> true;
      case "off", "false", "no", "0" -> false;
      default ->
          throw new IllegalArgumentException(
              "LOVAGE_SCHEDULER must be on or off, got '" + setting + "'");
    };
  }

  /**
   * The schedules of a JSON array such as {@code [{"name": "tick", "task": "demo.add", "every":
   * 60}]}.
   */
  static List<Schedule> parse(String json) {
    if (json == null || json.isBlank()) {
      return List.of();
    }
    JsonNode array;
    try {
      array = Json.MAPPER.readTree(json);
    } catch (JacksonException e) {
      throw new IllegalArgumentException(
          "LOVAGE_SCHEDULES is not valid JSON: " + e.getOriginalMessage(), e);
    }
    if (!array.isArray()) {
      throw new IllegalArgumentException("LOVAGE_SCHEDULES must be a JSON array of schedules");
    }
    List<Schedule> schedules = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      try {
        schedules.add(ScheduleJson.read(array.get(i)));
      } catch (Schedule.Invalid e) {
        throw new IllegalArgumentException("LOVAGE_SCHEDULES[" + i + "]: " + e.getMessage(), e);
      }
    }
    return schedules;
  }
}
