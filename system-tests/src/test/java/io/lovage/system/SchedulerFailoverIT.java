package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.schedule.Scheduler;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Periodic tasks with three producer replicas, the scheduler's leader killed with SIGKILL again and
 * again: a schedule every second runs once per second, no scheduled time twice and none missed,
 * counted by the task's own trace (demo.mark, as in the fault suite).
 */
class SchedulerFailoverIT {
  private static final int REPLICAS = 3;
  private static final int KILLS = 3;
  private static final Duration BETWEEN_KILLS = Duration.ofSeconds(10);

  @Test
  void aScheduleEverySecondRunsEachSecondOnceWhileItsLeaderIsKilledAgainAndAgain()
      throws Exception {
    String queue = RabbitFixture.uniqueQueue("schedule");
    String name = "failover-" + queue;
    Path marks = Files.createTempFile(Path.of("target"), "schedule-marks-", ".txt");
    List<AppProcess> producers = new ArrayList<>();
    try (AppProcess worker =
        AppProcess.worker(
            queue,
            Map.of("LOVAGE_DEMO_MARK_FILE", marks.toString(), "LOVAGE_IO_CONCURRENCY", "8"))) {
      for (int i = 0; i < REPLICAS; i++) {
        producers.add(AppProcess.startProducer(Map.of()));
      }
      producers.forEach(AppProcess::awaitHealthy);
      AppProcess any = producers.getFirst();
      var created =
          any.post(
              "/schedules",
              "application/json",
              "{\"name\": \""
                  + name
                  + "\", \"task\": \"demo.mark\", \"args\": [\"tick\"], \"queue\": \""
                  + queue
                  + "\", \"every\": 1}");
      assertEquals(201, created.statusCode(), created.body());
      Instant start = Instant.now();

      List<Duration> failovers = new ArrayList<>();
      for (int kill = 0; kill < KILLS; kill++) {
        Await.until(
            BETWEEN_KILLS.plusSeconds(30),
            "time for the next kill",
            () ->
                Instant.now()
                    .isAfter(start.plus(BETWEEN_KILLS.multipliedBy(failovers.size() + 1))));
        AppProcess leader =
            Await.until(Duration.ofSeconds(30), "a leader", () -> leaderAmong(producers));
        leader.kill();
        Instant killed = Instant.now();
        producers.remove(leader);
        producers.add(AppProcess.startProducer(Map.of())); // back to three, not waited for
        Await.until(
            Duration.ofSeconds(30), "a new leader", () -> leaderAmong(producers).isPresent());
        failovers.add(Duration.between(killed, Instant.now()));
      }
      Await.until(
          BETWEEN_KILLS.plusSeconds(30),
          "the last period",
          () -> Instant.now().isAfter(start.plus(BETWEEN_KILLS.multipliedBy(KILLS + 1))));
      AppProcess survivor = producers.stream().filter(p -> p.isAlive()).findFirst().orElseThrow();
      survivor.awaitHealthy();
      assertEquals(204, survivor.delete("/schedules/" + name).statusCode());
      Instant stopped = Instant.now();

      // Each second between the first and the last run: its run, exactly once.
      // The runs sent before the deletion are done once the worker has written no mark for 2 s.
      Await.until(
          Duration.ofSeconds(60),
          "the worker to run what was sent",
          () -> {
            try {
              return Files.size(marks) > 0
                  && Files.getLastModifiedTime(marks)
                      .toInstant()
                      .isBefore(Instant.now().minusSeconds(2));
            } catch (IOException e) {
              return false;
            }
          });
      Map<String, Long> ran = runsById(marks);
      Map<String, Instant> byId = new HashMap<>();
      for (long s = start.getEpochSecond() - 1; s <= stopped.getEpochSecond() + 1; s++) {
        Instant t = Instant.ofEpochSecond(s);
        byId.put(Scheduler.runId(name, t), t);
      }
      List<Instant> times =
          ran.keySet().stream().map(byId::get).filter(t -> t != null).sorted().toList();
      long twice = ran.values().stream().filter(n -> n > 1).count();
      long missed = 0;
      for (int i = 1; i < times.size(); i++) {
        missed += Duration.between(times.get(i - 1), times.get(i)).toSeconds() - 1;
      }
      System.out.printf(
          "scheduler failover: %d runs from %s to %s, %d twice, %d missed, %d kills, failovers"
              + " (kill to new leader seen over REST) %s%n",
          times.size(), times.getFirst(), times.getLast(), twice, missed, KILLS, failovers);
      assertEquals(ran.size(), times.size(), "runs that are not of this schedule: " + ran);
      assertEquals(0, twice, "scheduled times run twice: " + ran);
      assertEquals(0, missed, "scheduled times never run: " + times);
      assertTrue(times.size() >= BETWEEN_KILLS.toSeconds() * KILLS, "too few runs: " + times);
    } finally {
      producers.forEach(AppProcess::close);
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  private static Optional<AppProcess> leaderAmong(List<AppProcess> producers) {
    for (AppProcess producer : producers) {
      try {
        JsonNode health = Json.MAPPER.readTree(producer.get("/health").body());
        if (health.at("/components/scheduler/leader").asBoolean(false)) {
          return Optional.of(producer);
        }
      } catch (IOException | RuntimeException notUpYet) {
        // a replica still starting
      }
    }
    return Optional.empty();
  }

  private static Map<String, Long> runsById(Path marks) {
    try {
      return Files.readAllLines(marks).stream()
          .map(line -> line.split(" "))
          .filter(parts -> parts.length >= 2)
          .collect(Collectors.groupingBy(parts -> parts[1], Collectors.counting()));
    } catch (IOException e) {
      return Map.of();
    }
  }
}
