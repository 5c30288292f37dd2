package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.RabbitFixture;
import java.net.InetAddress;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The REST service operates workers through Celery's remote control: detail and shutdown. */
class WorkerOperationsIT {
  private final String queue = RabbitFixture.uniqueQueue("operations");

  @AfterEach
  void cleanUp() {
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void aWorkerIsShownInDetailAndShutDownThroughTheRestService() throws Exception {
    AppProcess worker = AppProcess.worker(queue, 4);
    try (AppProcess producer = AppProcess.producer(Map.of())) {
      String name = worker.workerNamePrefix() + InetAddress.getLocalHost().getHostName();

      HttpResponse<String> detail = producer.get("/workers/" + name);
      assertEquals(200, detail.statusCode(), detail.body());
      JsonNode body = Json.MAPPER.readTree(detail.body());
      assertEquals(queue, body.at("/queues/0/name").asString(), detail.body());
      assertTrue(body.at("/stats/pool").has("max-concurrency"), detail.body());

      assertEquals(404, producer.get("/workers/nobody@nowhere").statusCode());

      String extra = queue + ".extra";
      HttpResponse<String> added =
          producer.post(
              "/workers/" + name + "/queues",
              "application/json",
              "{\"queue\": \"" + extra + "\", \"consume\": true}");
      assertEquals(200, added.statusCode(), added.body());
      assertTrue(
          producer.get("/workers/" + name).body().contains(extra), "the added queue is consumed");
      HttpResponse<String> cancelled =
          producer.post(
              "/workers/" + name + "/queues",
              "application/json",
              "{\"queue\": \"" + extra + "\", \"consume\": false}");
      assertEquals(200, cancelled.statusCode(), cancelled.body());
      RabbitFixture.deleteTaskQueue(extra);

      HttpResponse<String> shutdown =
          producer.post("/workers/" + name + "/shutdown", "{}", Map.of());
      assertEquals(202, shutdown.statusCode(), shutdown.body());
      assertEquals(0, worker.awaitExit(Duration.ofSeconds(60)), "exit code, log " + worker.log());
    } finally {
      worker.close();
    }
  }
}
