package io.lovage.service.openapi;

import java.util.Map;
import tools.jackson.databind.node.ObjectNode;

/**
 * A bean that adds named JSON Schemas to the OpenAPI document's {@code components/schemas}, for
 * {@link ApiDoc#requestBody()} and {@link ApiResponse#schema()} to name.
 */
@FunctionalInterface
public interface SchemaSource {
  Map<String, ObjectNode> schemas();
}
