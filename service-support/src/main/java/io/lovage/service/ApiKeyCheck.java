package io.lovage.service;

/**
 * The bean that asks every request for {@code Authorization: Bearer <key>}, except on routes marked
 * {@link WithoutApiKey}. When one exists, the OpenAPI document declares bearer authentication.
 */
public interface ApiKeyCheck {

  /** Where the key comes from, for the OpenAPI document, e.g. "the key set in LOVAGE_API_KEY". */
  String description();
}
