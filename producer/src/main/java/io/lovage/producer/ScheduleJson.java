package io.lovage.producer;

import io.lovage.schedule.Schedule;
import java.time.Instant;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * A schedule as users write it (REST, {@code LOVAGE_SCHEDULES}): as {@link Schedule#fromJson} reads
 * it, except that a {@code workflow} may be in either form {@code POST /workflows} reads (the short
 * one, {@code {"chain": [...]}}, or Celery's signature dict); it is checked the same way.
 */
final class ScheduleJson {
  private ScheduleJson() {}

  /**
   * @throws Schedule.Invalid naming the field, for a workflow the place in it ({@code
   *     workflow/chain/1/task})
   */
  static Schedule read(JsonNode json) {
    if (json != null && json.isObject() && json.path("workflow").isObject()) {
      ObjectNode copy = (ObjectNode) json.deepCopy();
      try {
        copy.set(
            "workflow", WorkflowSubmission.parse(json.get("workflow"), Instant.now()).canvas());
      } catch (TaskSubmission.Invalid e) {
        String pointer = e.problem.pointer();
        throw new Schedule.Invalid(
            "workflow" + (pointer == null ? "" : pointer), "workflow: " + e.getMessage());
      }
      return Schedule.fromJson(copy);
    }
    return Schedule.fromJson(json);
  }
}
