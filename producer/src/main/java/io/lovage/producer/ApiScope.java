package io.lovage.producer;

import io.micronaut.core.annotation.AnnotationMetadata;
import io.micronaut.http.HttpMethod;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.util.Locale;

/**
 * What an API key may do. Reading is every {@code GET}; submitting is the routes marked {@link
 * Needs}{@code (SUBMIT)}; everything else changes what is there (revoke, replay, delete, limits,
 * schedules, worker control) and is {@code admin}, so a new route is admin until it says otherwise.
 */
enum ApiScope {
  SUBMIT,
  READ,
  ADMIN;

  /** A route that needs a scope other than the one its method implies. */
  @Documented
  @Retention(RetentionPolicy.RUNTIME)
  @Target(ElementType.METHOD)
  @interface Needs {
    ApiScope value();
  }

  /** The scope a request to a route needs. */
  static ApiScope of(HttpMethod method, AnnotationMetadata route) {
    return route
        .enumValue(Needs.class, ApiScope.class)
        .orElse(method == HttpMethod.GET || method == HttpMethod.HEAD ? READ : ADMIN);
  }

  /** As a key file writes it: {@code submit}, {@code read}, {@code admin}. */
  String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * @throws IllegalArgumentException naming the scopes there are
   */
  static ApiScope parse(String text) {
    for (ApiScope scope : values()) {
      if (scope.wire().equals(text.strip().toLowerCase(Locale.ROOT))) {
        return scope;
      }
    }
    throw new IllegalArgumentException(
        "unknown scope '" + text + "': the scopes are submit, read and admin");
  }
}
