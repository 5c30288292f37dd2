package io.lovage.service.openapi;

import io.lovage.protocol.Json;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * JSON Schema fragments, in the dialect of OpenAPI 3.0, for the code that checks a body to say what
 * it accepts. Each call returns a new node, to add more keywords to:
 *
 * <pre>{@code
 * JsonSchema.object(
 *     "A task to run",
 *     Map.of("task", JsonSchema.string("its name").put("pattern", "[\\w.]+")),
 *     "task")
 * }</pre>
 */
public final class JsonSchema {
  private JsonSchema() {}

  public static ObjectNode string(String description) {
    return typed("string", description);
  }

  /** An ISO-8601 time with an offset, e.g. {@code 2030-01-02T03:04:05Z}. */
  public static ObjectNode dateTime(String description) {
    return string(description).put("format", "date-time");
  }

  public static ObjectNode integer(String description, long minimum, long maximum) {
    return typed("integer", description).put("minimum", minimum).put("maximum", maximum);
  }

  public static ObjectNode number(String description, long minimum, long maximum) {
    return typed("number", description).put("minimum", minimum).put("maximum", maximum);
  }

  public static ObjectNode bool(String description) {
    return typed("boolean", description);
  }

  /** An array of {@code items}, or of anything when {@code items} is null. */
  public static ObjectNode array(String description, ObjectNode items) {
    ObjectNode schema = typed("array", description);
    schema.set("items", items == null ? Json.MAPPER.createObjectNode() : items);
    return schema;
  }

  /** Any JSON object. */
  public static ObjectNode anyObject(String description) {
    return typed("object", description);
  }

  /** Any JSON value. */
  public static ObjectNode anyValue(String description) {
    return described(Json.MAPPER.createObjectNode(), description);
  }

  /**
   * An object with these properties, in the map's order, and no others; {@code required} names the
   * ones it must have.
   */
  public static ObjectNode object(
      String description, Map<String, ObjectNode> properties, String... required) {
    ObjectNode schema = typed("object", description);
    if (required.length > 0) {
      ArrayNode names = schema.putArray("required");
      for (String name : required) {
        names.add(name);
      }
    }
    schema.putObject("properties").setAll(properties);
    schema.put("additionalProperties", false);
    return schema;
  }

  /** Exactly one of these. */
  public static ObjectNode oneOf(String description, ObjectNode... choices) {
    ObjectNode schema = described(Json.MAPPER.createObjectNode(), description);
    schema.putArray("oneOf").addAll(List.of(choices));
    return schema;
  }

  /** The schema named {@code name} in the document's {@code components/schemas}. */
  public static ObjectNode ref(String name) {
    return Json.MAPPER.createObjectNode().put("$ref", "#/components/schemas/" + name);
  }

  private static ObjectNode typed(String type, String description) {
    return described(Json.MAPPER.createObjectNode().put("type", type), description);
  }

  private static ObjectNode described(ObjectNode schema, String description) {
    return description == null || description.isEmpty()
        ? schema
        : schema.put("description", description);
  }
}
