package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The REST service while RabbitMQ is down or blocks publishers: 503 with Retry-After in time, never
 * a 202 for a task the broker did not confirm, and back to 202 by itself when the broker is.
 */
class BrokerTroubleIT {
  private static final Duration RECOVERY = Duration.ofSeconds(60);

  /** The publish confirm timeout (5 s) plus slack for a loaded 2-core machine. */
  private static final long ANSWER_WITHIN_MS = 10_000;

  private final String queue = RabbitFixture.uniqueQueue("trouble");

  @AfterEach
  void cleanUp() {
    RabbitFixture.rabbitmqctl("set_vm_memory_high_watermark", "0.6");
    RabbitFixture.startApp();
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void whileTheBrokerIsStoppedSubmitsAre503InTimeAndEvery202RunsAfterItIsBack() throws IOException {
    try (AppProcess worker = AppProcess.worker(queue, 4);
        AppProcess producer = AppProcess.producer()) {
      String task = "{\"task\": \"demo.add\", \"args\": [1, 2], \"queue\": \"" + queue + "\"}";
      List<String> accepted = new ArrayList<>();
      accepted.add(producer.submitTask(task));

      RabbitFixture.stopApp();
      for (int i = 0; i < 3; i++) {
        long start = System.nanoTime();
        HttpResponse<String> during = producer.post("/tasks", "application/json", task);
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(503, during.statusCode(), during.body());
        assertTrue(during.headers().firstValue("Retry-After").isPresent(), "Retry-After");
        assertTrue(tookMs < ANSWER_WITHIN_MS, "answered after " + tookMs + " ms");
      }
      RabbitFixture.startApp();

      String after =
          Await.until(RECOVERY, "a 202 after the broker is back", () -> accept(producer, task));
      accepted.add(after);
      for (String id : accepted) {
        assertEquals(3, producer.awaitState(id, "SUCCESS").get("result").asInt(), "task " + id);
      }
    }
  }

  @Test
  void whileAMemoryAlarmBlocksPublishersSubmitsAre503InTimeAndWorkAgainAfterIt()
      throws IOException {
    try (AppProcess worker = AppProcess.worker(queue, 4);
        AppProcess producer = AppProcess.producer()) {
      String task = "{\"task\": \"demo.noop\", \"queue\": \"" + queue + "\"}";
      producer.submitTask(task);

      RabbitFixture.rabbitmqctl("set_vm_memory_high_watermark", "0.00000001");
      long start = System.nanoTime();
      HttpResponse<String> blocked = producer.post("/tasks", "application/json", task);
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(503, blocked.statusCode(), blocked.body());
      assertTrue(tookMs < ANSWER_WITHIN_MS, "answered after " + tookMs + " ms");

      RabbitFixture.rabbitmqctl("set_vm_memory_high_watermark", "0.6");
      String after =
          Await.until(RECOVERY, "a 202 after the alarm cleared", () -> accept(producer, task));
      assertEquals("SUCCESS", producer.awaitState(after, "SUCCESS").get("state").asString());
    }
  }

  @Test
  void aQueueAtItsLengthLimitAnswers429AndLosesNothing() throws IOException {
    String limited = RabbitFixture.uniqueQueue("limited");
    // How operators bound a queue: a policy, which needs no change to the declared arguments.
    RabbitFixture.rabbitmqctl(
        "set_policy",
        "--apply-to",
        "queues",
        "test-limit",
        "^" + limited.replace(".", "\\.") + "$",
        "{\"max-length\": 2, \"overflow\": \"reject-publish\"}");
    try (AppProcess producer = AppProcess.producer()) {
      String task = "{\"task\": \"demo.noop\", \"queue\": \"" + limited + "\"}";
      // Quorum queues reject a publish once they are over the limit, so the 3rd or 4th is refused.
      List<String> accepted = new ArrayList<>();
      HttpResponse<String> full = null;
      for (int i = 0; i < 6 && full == null; i++) {
        HttpResponse<String> r = producer.post("/tasks", "application/json", task);
        if (r.statusCode() == 202) {
          accepted.add(io.lovage.protocol.Json.MAPPER.readTree(r.body()).get("id").asString());
        } else {
          full = r;
        }
      }

      assertTrue(full != null, "no 429 after " + accepted.size() + " accepted tasks");
      assertEquals(429, full.statusCode(), full.body());
      assertTrue(full.headers().firstValue("Retry-After").isPresent());
      assertTrue(accepted.size() >= 2, "accepted " + accepted.size());
      try (AppProcess worker = AppProcess.worker(limited, 2)) {
        for (String id : accepted) {
          producer.awaitState(id, "SUCCESS");
        }
      }
    } finally {
      RabbitFixture.rabbitmqctl("clear_policy", "test-limit");
      RabbitFixture.deleteTaskQueue(limited);
    }
  }

  private static java.util.Optional<String> accept(AppProcess producer, String task) {
    try {
      HttpResponse<String> r = producer.post("/tasks", "application/json", task);
      return r.statusCode() == 202
          ? java.util.Optional.of(
              io.lovage.protocol.Json.MAPPER.readTree(r.body()).get("id").asString())
          : java.util.Optional.empty();
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }
}
