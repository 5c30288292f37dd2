package io.lovage.service;

import io.lovage.protocol.Json;
import io.lovage.service.openapi.JsonSchema;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.databind.node.ObjectNode;

/**
 * An RFC 9457 problem: what went wrong, and for a bad field a JSON pointer to it.
 *
 * @param pointer where in the request body the problem is, e.g. {@code /task}; null if nowhere
 */
public record Problem(HttpStatus status, String detail, String pointer) {
  public static final String MEDIA_TYPE = "application/problem+json";

  public static Problem badRequest(String pointer, String detail) {
    return new Problem(HttpStatus.BAD_REQUEST, detail, pointer);
  }

  /** The problem document, to add extension members to before writing it. */
  public ObjectNode body() {
    ObjectNode body = Json.MAPPER.createObjectNode();
    body.put("type", "about:blank");
    body.put("title", status.getReason());
    body.put("status", status.getCode());
    body.put("detail", detail);
    if (pointer != null) {
      body.put("pointer", pointer);
    }
    return body;
  }

  /** What {@link #body()} holds, as JSON Schema, for the OpenAPI document. */
  public static ObjectNode jsonSchema() {
    Map<String, ObjectNode> fields = new LinkedHashMap<>();
    fields.put("type", JsonSchema.string("always about:blank: the status says what kind it is"));
    fields.put("title", JsonSchema.string("the reason phrase of the status, e.g. Bad Request"));
    fields.put("status", JsonSchema.integer("the HTTP status", 400, 599));
    fields.put("detail", JsonSchema.string("what went wrong, for a person to read"));
    fields.put(
        "pointer",
        JsonSchema.string(
            "a JSON pointer to the field of the request body that is wrong, e.g. /task; only"
                + " where there is one"));
    ObjectNode schema =
        JsonSchema.object(
            "An RFC 9457 problem: every error of this API has this shape.",
            fields,
            "type",
            "title",
            "status",
            "detail");
    // Some problems carry extension members, e.g. the accepted and failed items of a batch.
    schema.put("additionalProperties", true);
    return schema;
  }

  public String toJson() {
    return Json.MAPPER.writeValueAsString(body());
  }

  public MutableHttpResponse<String> response() {
    return HttpResponse.<String>status(status).contentType(MEDIA_TYPE).body(toJson());
  }
}
