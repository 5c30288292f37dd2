package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** /schedules over REST: create, read, run now, the runs and their states, delete, bad input. */
class ScheduleRestIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void aWorkerWithTheSchedulerOnSendsTheRunsWhenNoProducerRuns() throws Exception {
    String queue = RabbitFixture.uniqueQueue("schedule-worker");
    String name = "worker-" + queue;
    java.nio.file.Path marks =
        java.nio.file.Files.createTempFile(
            java.nio.file.Path.of("target"), "worker-schedule-", ".txt");
    try (io.lovage.broker.RabbitBroker broker = RabbitFixture.connect("ScheduleRestIT");
        AppProcess worker =
            AppProcess.worker(
                queue,
                Map.of("LOVAGE_SCHEDULER", "on", "LOVAGE_DEMO_MARK_FILE", marks.toString()));
        io.lovage.schedule.Scheduler definitions =
            new io.lovage.schedule.Scheduler(
                    broker,
                    new io.lovage.TaskClient(broker, "ScheduleRestIT"),
                    java.time.Clock.systemUTC())
                .start(false)) {
      definitions
          .put(
              new io.lovage.schedule.Schedule(
                  name,
                  "demo.mark",
                  Json.MAPPER.createArrayNode().add("tick"),
                  null,
                  queue,
                  io.lovage.schedule.Schedule.When.every(1),
                  null,
                  io.lovage.schedule.CatchUp.ONCE,
                  true))
          .join();
      try {
        Await.until(
            WAIT,
            "two runs sent by the worker's scheduler",
            () -> {
              try {
                return java.nio.file.Files.readAllLines(marks).size() >= 2;
              } catch (java.io.IOException e) {
                return false;
              }
            });
      } finally {
        definitions.delete(name).join();
      }
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void aScheduleIsCreatedListedRunNowAndDeletedAndBadOnesAreRefusedWith400() throws Exception {
    String queue = RabbitFixture.uniqueQueue("schedule-rest");
    String name = "rest-" + queue;
    try (AppProcess worker = AppProcess.worker(queue, 4);
        AppProcess producer = AppProcess.producer()) {
      String body =
          "{\"name\": \""
              + name
              + "\", \"task\": \"demo.add\", \"args\": [2, 3], \"queue\": \""
              + queue
              + "\", \"cron\": \"0 3 * * *\", \"timezone\": \"Europe/Berlin\"}";
      HttpResponse<String> created = producer.post("/schedules", "application/json", body);
      assertEquals(201, created.statusCode(), created.body());
      JsonNode schedule = Json.MAPPER.readTree(created.body());
      assertTrue(schedule.get("nextRun").asString().endsWith(":00:00Z"), schedule.toString());
      assertEquals(409, producer.post("/schedules", "application/json", body).statusCode());

      HttpResponse<String> run =
          producer.post("/schedules/" + name + "/run", "application/json", "");
      assertEquals(202, run.statusCode(), run.body());
      String id = Json.MAPPER.readTree(run.body()).get("id").asString();
      assertEquals(5, producer.awaitState(id, "SUCCESS").get("result").asInt());
      JsonNode runs =
          Await.until(
              WAIT,
              "the run listed with its state",
              () -> {
                try {
                  JsonNode list =
                      Json.MAPPER.readTree(producer.get("/schedules/" + name + "/runs").body());
                  return list.at("/runs/0/state").asString("").equals("SUCCESS")
                      ? java.util.Optional.of(list)
                      : java.util.Optional.empty();
                } catch (java.io.IOException e) {
                  return java.util.Optional.empty();
                }
              });
      assertEquals(id, runs.at("/runs/0/id").asString());
      JsonNode all = Json.MAPPER.readTree(producer.get("/schedules").body());
      assertTrue(all.get("schedules").toString().contains(name), all.toString());

      // A workflow: each run is its first task's message with the rest of the chain in it.
      String chain =
          "{\"name\": \"wf-"
              + name
              + "\", \"queue\": \""
              + queue
              + "\", \"cron\": \"0 3 * * *\", \"workflow\": {\"chain\": [{\"task\":"
              + " \"demo.add\", \"args\": [1, 2]}, {\"task\": \"demo.add\", \"args\": [10]}]}}";
      HttpResponse<String> workflow = producer.post("/schedules", "application/json", chain);
      assertEquals(201, workflow.statusCode(), workflow.body());
      assertEquals(
          "chain",
          Json.MAPPER.readTree(workflow.body()).at("/workflow/subtask_type").asString(),
          workflow.body());
      HttpResponse<String> ranWorkflow =
          producer.post("/schedules/wf-" + name + "/run", "application/json", "");
      assertEquals(202, ranWorkflow.statusCode(), ranWorkflow.body());
      String first = Json.MAPPER.readTree(ranWorkflow.body()).get("id").asString();
      assertEquals(3, producer.awaitState(first, "SUCCESS").get("result").asInt());
      String second = io.lovage.workflow.CanvasSender.derived(first, "1"); // the chain's step 1
      assertEquals(13, producer.awaitState(second, "SUCCESS").get("result").asInt());
      assertEquals(204, producer.delete("/schedules/wf-" + name).statusCode());

      Map<String, String> bad =
          Map.of(
              "{\"name\": \"x1\", \"task\": \"demo.add\", \"cron\": \"61 * * * *\"}",
              "/cron",
              "{\"name\": \"x2\", \"task\": \"demo.add\", \"cron\": \"0 3 * * *\", \"timezone\": \"Mars/Olympus\"}",
              "/timezone",
              "{\"name\": \"x3\", \"task\": \"demo.add\", \"every\": 0}",
              "/every",
              "{\"name\": \"x4\", \"task\": \"demo.add\"}",
              "/every",
              "{\"name\": \"x5\", \"task\": \"demo.add\", \"every\": 5, \"shell\": true}",
              "/shell",
              "{\"name\": \"x6\", \"every\": 5, \"workflow\": {\"group\": [{\"task\":"
                  + " \"demo.add\"}]}}",
              "/workflow",
              "{\"name\": \"x7\", \"every\": 5, \"workflow\": {\"chain\": [{\"task\": 5}]}}",
              "/workflow/chain/0/task");
      for (var entry : bad.entrySet()) {
        HttpResponse<String> refused =
            producer.post("/schedules", "application/json", entry.getKey());
        assertEquals(400, refused.statusCode(), entry.getKey() + " → " + refused.body());
        assertEquals(
            "application/problem+json",
            refused.headers().firstValue("Content-Type").orElse(""),
            refused.body());
        assertEquals(
            entry.getValue(),
            Json.MAPPER.readTree(refused.body()).path("pointer").asString(),
            refused.body());
      }

      assertEquals(204, producer.delete("/schedules/" + name).statusCode());
      assertEquals(404, producer.get("/schedules/" + name).statusCode());
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }
}
