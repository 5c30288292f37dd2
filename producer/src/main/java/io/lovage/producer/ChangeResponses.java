package io.lovage.producer;

import io.lovage.protocol.Json;
import io.lovage.service.Problem;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;

/**
 * The answers of routes that change a definition kept in a stream (schedules, task limits): the
 * answer once RabbitMQ has taken the change, or 503 when it did not.
 */
final class ChangeResponses {
  private ChangeResponses() {}

  /** The answer once RabbitMQ has taken the change, or 503 if it did not. */
  static <T> MutableHttpResponse<String> once(
      CompletableFuture<T> change, Function<T, MutableHttpResponse<String>> then) {
    try {
      return then.apply(change.get());
    } catch (ExecutionException e) {
      return unavailable(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return unavailable(e);
    }
  }

  static MutableHttpResponse<String> json(HttpStatus status, JsonNode body) {
    return HttpResponse.<String>status(status)
        .body(Json.MAPPER.writeValueAsString(body))
        .contentType(MediaType.APPLICATION_JSON_TYPE);
  }

  /** 400 with a pointer to the field at fault. */
  static MutableHttpResponse<String> invalid(io.lovage.InvalidField e) {
    return Problem.badRequest(e.field().isEmpty() ? null : "/" + e.field(), e.getMessage())
        .response();
  }

  private static MutableHttpResponse<String> unavailable(Throwable error) {
    return new Problem(
            HttpStatus.SERVICE_UNAVAILABLE,
            "the broker did not take the change: " + error.getMessage(),
            null)
        .response()
        .header("Retry-After", "1");
  }
}
