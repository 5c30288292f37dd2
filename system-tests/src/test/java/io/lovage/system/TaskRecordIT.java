package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.protocol.Json;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Task states and results live in RabbitMQ: any producer replica reads them, also after the
 * producer or the broker restarted.
 */
class TaskRecordIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private final String queue = RabbitFixture.uniqueQueue("records");

  @AfterEach
  void cleanUp() {
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void resultSubmittedThroughOneProducerIsReadThroughAnotherAndAfterRestartsOfProducerAndBroker()
      throws IOException {
    String id;
    try (AppProcess worker = AppProcess.worker(queue, 2);
        AppProcess first = AppProcess.producer();
        AppProcess second = AppProcess.producer()) {
      HttpResponse<String> accepted =
          first.post(
              "/tasks",
              "application/json",
              "{\"task\": \"demo.add\", \"args\": [20, 22], \"queue\": \"" + queue + "\"}");
      assertEquals(202, accepted.statusCode(), accepted.body());
      id = Json.MAPPER.readTree(accepted.body()).get("id").asString();

      assertEquals(
          42,
          second.awaitState(id, "SUCCESS").get("result").asInt(),
          "read through the second replica");
    }

    try (AppProcess restarted = AppProcess.producer()) {
      assertEquals(
          42,
          restarted.awaitState(id, "SUCCESS").get("result").asInt(),
          "read after a producer restart");

      RabbitFixture.restartBroker();

      assertEquals(
          42,
          restarted.awaitState(id, "SUCCESS").get("result").asInt(),
          "read by a producer that lived through it");
    }
    try (AppProcess afterBroker = AppProcess.producer()) {
      assertEquals(
          42,
          afterBroker.awaitState(id, "SUCCESS").get("result").asInt(),
          "read after a broker restart");
    }
  }
}
