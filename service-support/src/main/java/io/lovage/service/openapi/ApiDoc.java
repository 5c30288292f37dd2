package io.lovage.service.openapi;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * What a route does, for the OpenAPI document at {@code /openapi.yml}. Javadoc is gone at run time,
 * so the words live here, next to the code they describe; the path, method, parameters, media types
 * and the 401, 413 and 415 answers of the framework come from the route itself.
 *
 * <pre>{@code
 * @ApiDoc(
 *     summary = "Revoke a task",
 *     responses = {
 *       @ApiResponse(status = 202, description = "revoked"),
 *       @ApiResponse(status = 404, description = "no task with this id is known")
 *     })
 * @Delete("/{id}")
 * MutableHttpResponse<String> revoke(@PathVariable String id) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ApiDoc {

  /** One line, shown next to the path. */
  String summary();

  /** More, in CommonMark; optional. */
  String description() default "";

  /**
   * The JSON Schema of the request body, by the name a {@link SchemaSource} gives it: for a route
   * that reads its body as text and checks it itself. Empty: the schema of the body's Java type.
   */
  String requestBody() default "";

  /** Every answer the route gives; an error status (400 and up) is a problem+json document. */
  ApiResponse[] responses();
}
