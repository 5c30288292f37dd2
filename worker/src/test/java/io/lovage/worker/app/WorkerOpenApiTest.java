package io.lovage.worker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.broker.Broker;
import io.lovage.broker.InMemoryBroker;
import io.lovage.protocol.Json;
import io.micronaut.context.ApplicationContext;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import io.micronaut.runtime.server.EmbeddedServer;
import jakarta.inject.Singleton;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The worker serves the same generated OpenAPI document as the producer, of its own routes. */
class WorkerOpenApiTest {
  static final String IN_MEMORY = "lovage.test.in-memory-broker";

  @Factory
  @Requires(property = IN_MEMORY, value = "true")
  static final class InMemoryBrokerFactory {
    @Singleton
    @Replaces(Broker.class)
    @Bean(preDestroy = "close")
    Broker broker() {
      return new InMemoryBroker();
    }
  }

  @Test
  void theWorkersOpenApiDocumentListsHealthAndMetricsWithoutAuthentication() throws Exception {
    try (EmbeddedServer server =
        ApplicationContext.run(
            EmbeddedServer.class, Map.of("micronaut.server.port", -1, IN_MEMORY, "true"))) {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(server.getURL() + "/openapi.json")).build(),
                  HttpResponse.BodyHandlers.ofString());

      assertEquals(200, response.statusCode(), response.body());
      JsonNode doc = Json.MAPPER.readTree(response.body());
      assertEquals("3.0.3", doc.get("openapi").asString());
      assertEquals("lovage-worker", doc.at("/info/title").asString());
      assertEquals(
          List.of("/health", "/prometheus"), List.copyOf(doc.get("paths").propertyNames()));
      assertEquals(true, doc.path("security").isMissingNode());
    }
  }
}
