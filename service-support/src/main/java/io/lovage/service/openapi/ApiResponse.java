package io.lovage.service.openapi;

import java.lang.annotation.Documented;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/** One answer of a route, in {@link ApiDoc#responses()}. */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({})
public @interface ApiResponse {

  int status();

  String description();

  /** Headers the answer sets, e.g. {@code Location} or {@code Retry-After}. */
  String[] headers() default {};

  /**
   * The JSON Schema of the body, by the name a {@link SchemaSource} gives it; empty for none. An
   * error's is {@code Problem}.
   */
  String schema() default "";

  /**
   * Whether an error (400 and up) is an {@code application/problem+json} document, as all are but
   * {@code /health}'s 503.
   */
  boolean problem() default true;
}
