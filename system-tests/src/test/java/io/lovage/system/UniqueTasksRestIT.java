package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.lovage.Unique;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import io.lovage.unique.UniqueLocks;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Unique tasks over REST: two producer JVMs, one key, one task. */
class UniqueTasksRestIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  /**
   * Only the last minutes of the event stream to read at start: the test's tasks are all younger,
   * and on a shared broker a day of events takes each producer tens of seconds to read.
   */
  private static final Map<String, String> PRODUCER_ENV = Map.of("LOVAGE_RESULT_EXPIRES", "5m");

  @Test
  void hundredConcurrentIdenticalSubmitsThroughTwoProducersRunOneTask() throws Exception {
    String queue = RabbitFixture.uniqueQueue("unique");
    String key = "unique-" + UUID.randomUUID().toString().substring(0, 8);
    String body =
        "{\"task\": \"demo.mark\", \"args\": [\""
            + key
            + "\", 0], \"queue\": \""
            + queue
            + "\", \"unique\": \""
            + key
            + "\", \"uniqueFor\": 300}";
    String lock = Unique.key(key).lockFor(TaskMessage.builder("demo.mark").build());
    Path marks = Files.createTempFile(Path.of("target"), "unique-marks-", ".txt");
    // Both producers start at once: most of a start is waiting on the broker's streams. Both are
    // healthy before the burst, which then does not compete for CPU with their schedulers reading
    // the schedule stream (a holder's id slower than 5 s to turn up is a 503).
    try (AppProcess one = AppProcess.startProducer(PRODUCER_ENV);
        AppProcess other = AppProcess.startProducer(PRODUCER_ENV)) {
      one.awaitHealthy().awaitHistoryRead();
      other.awaitHealthy().awaitHistoryRead();
      List<Future<HttpResponse<String>>> sent = new ArrayList<>();
      try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
        for (int i = 0; i < 100; i++) {
          AppProcess producer = i % 2 == 0 ? one : other;
          sent.add(threads.submit(() -> producer.post("/tasks", "application/json", body)));
        }
      }
      List<HttpResponse<String>> answers = new ArrayList<>();
      for (Future<HttpResponse<String>> answer : sent) {
        answers.add(answer.get(WAIT.toSeconds(), TimeUnit.SECONDS));
      }

      Map<Integer, Long> statuses =
          answers.stream()
              .collect(Collectors.groupingBy(HttpResponse::statusCode, Collectors.counting()));
      assertEquals(Map.of(202, 1L, 200, 99L), statuses, "statuses");
      Set<String> ids = answers.stream().map(UniqueTasksRestIT::id).collect(Collectors.toSet());
      assertEquals(1, ids.size(), "every answer names the same task: " + ids);
      assertEquals(
          99,
          answers.stream()
              .filter(r -> r.statusCode() == 200)
              .filter(r -> r.headers().firstValue("Unique-Replayed").equals(Optional.of("true")))
              .count());
      String id = ids.iterator().next();

      try (AppProcess worker =
          AppProcess.worker(
              queue,
              Map.of(
                  "LOVAGE_IO_CONCURRENCY",
                  "4",
                  "LOVAGE_DEMO_MARK_FILE",
                  marks.toAbsolutePath().toString()))) {
        assertEquals("SUCCESS", one.awaitFinal(id).get("state").asString());
        assertEquals(List.of(key + " " + id), runs(marks, key), "one run");

        // Finished: the key is free again, and the next submit sends a new task.
        String next =
            Await.until(
                WAIT,
                "the key to be released",
                () -> {
                  try {
                    HttpResponse<String> r = other.post("/tasks", "application/json", body);
                    return r.statusCode() == 202 ? Optional.of(id(r)) : Optional.empty();
                  } catch (java.io.IOException e) {
                    return Optional.empty();
                  }
                });
        assertNotEquals(id, next);
        assertEquals("SUCCESS", other.awaitFinal(next).get("state").asString());
      }
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
      RabbitFixture.deleteQueues(UniqueLocks.lockQueue(lock), UniqueLocks.idQueue(lock));
      Files.deleteIfExists(marks);
    }
  }

  private static String id(HttpResponse<String> response) {
    return Json.MAPPER.readTree(response.body()).path("id").asString();
  }

  /** The runs of demo.mark under this key: lines "<key> <task id>…" of the mark file. */
  private static List<String> runs(Path marks, String key) throws java.io.IOException {
    return Files.readAllLines(marks).stream()
        .filter(line -> line.startsWith(key + " "))
        .map(line -> String.join(" ", List.of(line.split(" ")).subList(0, 2)))
        .toList();
  }
}
