package io.lovage;

import io.lovage.protocol.Json;
import java.util.List;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** A group, then a body with the group's results (Celery's {@code chord}); see {@link Canvas}. */
public record Chord(List<Canvas> header, Canvas body) implements Canvas {
  public Chord {
    header = List.copyOf(header);
    if (body == null) {
      throw new IllegalArgumentException("a chord needs a body");
    }
  }

  @Override
  public ObjectNode toJson() {
    ObjectNode json = Json.MAPPER.createObjectNode();
    json.put("task", "celery.chord");
    json.putArray("args");
    ObjectNode kwargs = json.putObject("kwargs");
    kwargs.putObject("kwargs");
    ArrayNode tasks = kwargs.putArray("header");
    header.forEach(part -> tasks.add(part.toJson()));
    kwargs.set("body", body.toJson());
    json.putObject("options");
    json.put("subtask_type", "chord");
    json.put("immutable", false);
    return json;
  }
}
