package io.lovage.service.openapi;

import io.lovage.service.WithoutApiKey;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import tools.jackson.dataformat.yaml.YAMLMapper;
import tools.jackson.dataformat.yaml.YAMLWriteFeature;

/**
 * {@code GET /openapi.yml} and {@code /openapi.json}: the service's OpenAPI document, the same in
 * both formats. Open without the API key, like {@code /health}: it says what the API is, it gives
 * nothing from it.
 */
@Controller
@Undocumented
@WithoutApiKey
final class OpenApiController {
  static final String YAML = "application/yaml";

  private final String json;
  private final String yaml;

  OpenApiController(OpenApiDocument document) {
    this.json = document.json().toPrettyString();
    this.yaml =
        YAMLMapper.builder()
            .disable(YAMLWriteFeature.WRITE_DOC_START_MARKER, YAMLWriteFeature.SPLIT_LINES)
            // Plain scalars where YAML reads them back as the same strings; "200" stays quoted.
            .enable(
                YAMLWriteFeature.MINIMIZE_QUOTES, YAMLWriteFeature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
            .build()
            .writeValueAsString(document.json());
  }

  @Get("/openapi.json")
  @Produces(MediaType.APPLICATION_JSON)
  String json() {
    return json;
  }

  @Get("/openapi.yml")
  @Produces(YAML)
  String yaml() {
    return yaml;
  }
}
