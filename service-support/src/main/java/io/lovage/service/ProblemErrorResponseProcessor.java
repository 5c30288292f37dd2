package io.lovage.service;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.Error;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import jakarta.inject.Singleton;
import java.util.stream.Collectors;

/**
 * The framework's own errors (unknown route 404, wrong method 405, body too large 413, wrong
 * content type 415) as problem+json too, so every error of the API has one shape.
 */
@Singleton
@Replaces(ErrorResponseProcessor.class)
final class ProblemErrorResponseProcessor implements ErrorResponseProcessor<String> {

  @Override
  public MutableHttpResponse<String> processResponse(
      ErrorContext context, MutableHttpResponse<?> response) {
    HttpStatus status = response.getStatus();
    String detail =
        context.getErrors().stream().map(Error::getMessage).collect(Collectors.joining("; "));
    Problem problem = new Problem(status, detail.isEmpty() ? status.getReason() : detail, null);
    return response.contentType(Problem.MEDIA_TYPE).body(problem.toJson());
  }
}
