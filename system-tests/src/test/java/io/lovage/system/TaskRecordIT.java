package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.protocol.Json;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Task states and results live in RabbitMQ: any producer replica reads them, also after the
 * producer or the broker restarted, and also when it holds fewer tasks in memory than it is asked
 * about.
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

  @Test
  void aProducerThatHolds1000TasksInMemoryFindsEachOf10000AlsoAfterARestart() throws IOException {
    // A virtual host of its own: the 50,000 events of these tasks would otherwise be read by
    // every producer that other tests start in the next minutes.
    try (RabbitFixture.Vhost vhost = RabbitFixture.vhost("records")) {
      findsEachOf10000(vhost.uri());
    }
  }

  private void findsEachOf10000(String uri) throws IOException {
    Map<String, String> small = Map.of("LOVAGE_RESULTS_MAX_TASKS", "1000", "RABBITMQ_URI", uri);
    List<String> ids = new ArrayList<>();
    // 64 at a time: each task waits for its outcome to be confirmed, 8 would take 20 s for these.
    try (AppProcess worker =
            AppProcess.worker(queue, Map.of("LOVAGE_IO_CONCURRENCY", "64", "RABBITMQ_URI", uri));
        AppProcess producer = AppProcess.producer(small)) {
      for (int batch = 0; batch < 10; batch++) {
        StringBuilder tasks = new StringBuilder("[");
        for (int i = 0; i < 1_000; i++) {
          int n = batch * 1_000 + i;
          tasks.append(i == 0 ? "" : ",");
          tasks.append("{\"task\": \"demo.add\", \"args\": [" + n + ", 1], \"queue\": \"");
          tasks.append(queue).append("\"}");
        }
        HttpResponse<String> accepted =
            producer.post("/tasks/batch", "application/json", tasks.append("]").toString());
        assertEquals(202, accepted.statusCode(), accepted.body());
        Json.MAPPER
            .readTree(accepted.body())
            .values()
            .forEach(t -> ids.add(t.get("id").asString()));
      }
      producer.awaitState(ids.getLast(), "SUCCESS");

      assertEveryResultFound(producer, ids, "the producer that sent them");
    }
    try (AppProcess restarted = AppProcess.producer(small)) {
      restarted.awaitState(ids.getLast(), "SUCCESS");

      assertEveryResultFound(restarted, ids, "a producer that read them from the stream");
    }
  }

  /**
   * Each task n of {@code ids} (demo.add(n, 1)) is found in SUCCESS with n + 1. Looked up a few at
   * a time: one after the other, the 10,000 round trips took half a minute per producer, and the
   * index they read is the same whichever order they come in.
   */
  private static void assertEveryResultFound(AppProcess producer, List<String> ids, String who) {
    int lanes = 8;
    try (ExecutorService lookups = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> running = new ArrayList<>();
      for (int lane = 0; lane < lanes; lane++) {
        int first = lane;
        running.add(
            lookups.submit(
                () -> {
                  for (int n = first; n < ids.size(); n += lanes) {
                    JsonNode task = producer.awaitState(ids.get(n), "SUCCESS");
                    assertEquals(n + 1, task.get("result").asInt(), who + ": task " + n);
                  }
                }));
      }
      for (Future<?> lane : running) {
        awaitLane(lane);
      }
    }
  }

  /** Waits for one lane of lookups and rethrows what failed it, e.g. its assertion. */
  private static void awaitLane(Future<?> lane) {
    try {
      lane.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw new AssertionError(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
