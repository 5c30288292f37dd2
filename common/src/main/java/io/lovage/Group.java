package io.lovage;

import io.lovage.protocol.Json;
import java.util.List;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Members that run in parallel (Celery's {@code group}); see {@link Canvas}. */
public record Group(List<Canvas> members) implements Canvas {
  public Group {
    members = List.copyOf(members);
    if (members.isEmpty()) {
      throw new IllegalArgumentException("a group needs at least one member");
    }
  }

  @Override
  public ObjectNode toJson() {
    return container("celery.group", "group", members);
  }

  /** Celery's dict of a chain or group: its signatures in {@code kwargs.tasks}. */
  static ObjectNode container(String task, String kind, List<Canvas> parts) {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("task", task);
    json.putArray("args");
    ArrayNode tasks = json.putObject("kwargs").putArray("tasks");
    parts.forEach(part -> tasks.add(part.toJson()));
    json.putObject("options");
    json.put("subtask_type", kind);
    json.put("immutable", false);
    return json;
  }
}
