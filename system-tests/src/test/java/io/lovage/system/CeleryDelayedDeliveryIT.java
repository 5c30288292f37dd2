package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.lovage.TaskClient;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Celery 5.5's native delayed delivery and Lovage's delay ladder are one ladder ({@code
 * celery_delayed_27} … {@code celery_delayed_0}, {@code celery_delayed_delivery}): a Celery 5.5
 * client's countdown waits in it and a Lovage worker runs the task when due; a Lovage countdown
 * waits in it and a Celery 5.5 worker, which declares the same ladder itself, runs the task. Celery
 * uses its ladder only for queues on a topic exchange, so the Celery side puts the queue on {@code
 * celery.topic} as well (lovage_celery.py's {@code LOVAGE_EXCHANGE_TYPE=topic}). Celery 5.2 has no
 * such ladder: with it these tests are skipped, and Lovage workers move its eta tasks into the
 * ladder themselves (CeleryInteropIT).
 */
class CeleryDelayedDeliveryIT {
  private static final Map<String, String> TOPIC = Map.of("LOVAGE_EXCHANGE_TYPE", "topic");
  private static final Duration WAIT = Duration.ofSeconds(60);

  @BeforeAll
  static void celeryWithNativeDelayedDelivery() {
    assumeTrue(
        PythonCelery.atLeast(5, 5),
        "Celery "
            + PythonCelery.version()
            + " has no native delayed delivery (Celery 5.5 added it)");
  }

  @AfterAll
  static void deleteTheTopicExchange() {
    RabbitFixture.deleteExchanges("celery.topic");
  }

  @Test
  void aCelery55CountdownWaitsInTheSharedLadderAndALovageWorkerRunsItWhenDue() {
    String queue = RabbitFixture.uniqueQueue("ladder-from-celery");
    try {
      // The queue as a Lovage service declares it (bound to the ladder's delivery exchange),
      // with no worker yet: where the message waits is the Celery client's doing alone.
      try (RabbitBroker broker = RabbitFixture.connect("CeleryDelayedDeliveryIT")) {
        broker.declare(LovageTopology.forQueues(List.of(queue)));
      }
      Map<String, String> settings = new java.util.HashMap<>(TOPIC);
      settings.put("LOVAGE_COUNTDOWN", "12");
      try (PythonCelery client = PythonCelery.script("celery_ladder.py", queue, settings)) {
        Await.until(WAIT, "the Celery client to send", () -> client.output().contains("in_level"));
        JsonNode sent = Json.MAPPER.readTree(firstJsonLine(client.output()));
        assertEquals(3, sent.get("level").asInt(), "12 s = 8 + 4: level 3 holds it first");
        assertTrue(sent.get("in_level").asInt() >= 1, "not waiting in celery_delayed_3: " + sent);
        assertEquals(0, sent.get("in_queue").asInt(), "sent to the task queue at once: " + sent);

        try (AppProcess worker = AppProcess.worker(queue, 2)) {
          JsonNode done = Json.MAPPER.readTree(client.lastLine(WAIT));
          assertEquals(42, done.get("value").asInt(), done.toString());
          assertTrue(done.get("elapsed").asDouble() >= 11.9, "ran before it was due: " + done);
        }
      }
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void aLovageCountdownReachesACelery55WorkerOnAQuorumQueueThroughTheSameLadder() throws Exception {
    String queue = RabbitFixture.uniqueQueue("ladder-to-celery");
    try (RabbitBroker broker = RabbitFixture.connect("CeleryDelayedDeliveryIT");
        TaskClient client =
            new TaskClient(
                broker, "CeleryDelayedDeliveryIT", QueueType.QUORUM, Clock.systemUTC())) {
      // Lovage declares the queue and the ladder first; the Celery worker then declares both as
      // Celery 5.5 does, which fails on any argument that differs.
      broker.declare(LovageTopology.forQueues(List.of(queue)));
      try (PythonCelery worker = PythonCelery.worker(queue, "quorum", TOPIC)) {
        Instant due = Instant.now().plusSeconds(3);
        long sum =
            client
                .submit(TaskMessage.builder("py.add").args(1, 2).eta(due).build(), queue)
                .get(WAIT, long.class);

        assertEquals(3L, sum);
        assertFalse(Instant.now().isBefore(due), "the Celery worker ran it before it was due");
        assertFalse(
            worker.output().contains("Failed to"),
            "the Celery worker could not declare the ladder:\n" + worker.output());
      }
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  private static String firstJsonLine(String output) {
    return output.lines().filter(line -> line.startsWith("{")).findFirst().orElseThrow();
  }
}
