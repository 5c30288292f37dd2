package io.lovage.service;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A route, or every route of a controller, that answers without the API key even when {@code
 * LOVAGE_API_KEY} is set: {@code /health} for probes, and the API's own documentation.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface WithoutApiKey {}
