package io.lovage.service;

import io.lovage.protocol.Json;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
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

  public String toJson() {
    return Json.MAPPER.writeValueAsString(body());
  }

  public MutableHttpResponse<String> response() {
    return HttpResponse.<String>status(status).contentType(MEDIA_TYPE).body(toJson());
  }
}
