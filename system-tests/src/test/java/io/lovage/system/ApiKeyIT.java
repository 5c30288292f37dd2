package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** LOVAGE_API_KEY: everything but /health and the API's documentation needs the bearer key. */
class ApiKeyIT {

  @Test
  void withAnApiKeySetRequestsWithoutTheRightBearerKeyAre401AndHealthAndDocsStayOpen()
      throws IOException {
    String queue = RabbitFixture.uniqueQueue("apikey");
    String task = "{\"task\": \"demo.noop\", \"queue\": \"" + queue + "\"}";
    try (AppProcess producer = AppProcess.producer(Map.of("LOVAGE_API_KEY", "s3cret-key"))) {
      assertEquals(200, producer.get("/health").statusCode());
      assertEquals(200, producer.get("/openapi.yml").statusCode());
      assertEquals(200, producer.get("/docs").statusCode());

      var none = producer.post("/tasks", task, Map.of("Content-Type", "application/json"));
      var wrong =
          producer.post(
              "/tasks",
              task,
              Map.of("Content-Type", "application/json", "Authorization", "Bearer nope"));
      var right =
          producer.post(
              "/tasks",
              task,
              Map.of("Content-Type", "application/json", "Authorization", "Bearer s3cret-key"));

      assertEquals(401, none.statusCode());
      assertEquals(
          "application/problem+json", none.headers().firstValue("Content-Type").orElseThrow());
      assertEquals(401, wrong.statusCode());
      assertEquals(202, right.statusCode(), right.body());
      assertEquals(401, producer.get("/tasks").statusCode());
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }
}
