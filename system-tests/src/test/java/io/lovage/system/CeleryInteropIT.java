package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskFailedException;
import io.lovage.TaskFuture;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Lovage and Python Celery 5.2 on one broker, both ways: a Celery client's tasks run on a Lovage
 * worker, Lovage's tasks run on a Celery worker, and results and errors travel Celery's rpc
 * protocol (reply_to, correlation_id) in both directions.
 */
class CeleryInteropIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @Test
  void celeryCanvasChainsGroupsStarmapsAndChunksRunOnALovageWorker() {
    String queue = RabbitFixture.uniqueQueue("celery-canvas");
    try (AppProcess worker = AppProcess.worker(queue, 8)) {
      JsonNode out =
          Json.MAPPER.readTree(
              PythonCelery.runScript("celery_canvas.py", queue, Duration.ofSeconds(120)));

      assertEquals(113, out.at("/chain/result").asInt(), out.toString());
      assertEquals(13, out.at("/chain/middle").asInt(), "res.parent: " + out);
      assertEquals(3, out.at("/chain/first").asInt(), "res.parent.parent: " + out);
      assertEquals("fixed", out.get("immutable").asString(), "an immutable step, then echo");
      assertEquals(42, out.get("partial_kwargs").asInt(), "add(21, y=21)");
      assertEquals("DemoFailure", out.at("/failure/type").asString(), out.toString());
      assertEquals("mid-chain", out.at("/failure/message").asString(), out.toString());
      assertEquals(Json.MAPPER.readTree("[0, 2, 4, 6, 8, 10, 12, 14, 16, 18]"), out.get("group"));
      assertEquals(Json.MAPPER.readTree("[3, 7]"), out.get("starmap"));
      assertEquals(Json.MAPPER.readTree("[\"a\", \"b\"]"), out.get("map"));
      assertEquals(Json.MAPPER.readTree("[[0, 2], [4, 6], [8]]"), out.get("chunks"));
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void celeryClientGetsResultsAndErrorsFromALovageWorker() {
    String queue = RabbitFixture.uniqueQueue("from-celery");
    try (AppProcess worker = AppProcess.worker(queue, 4)) {
      JsonNode out =
          Json.MAPPER.readTree(
              PythonCelery.runScript("celery_client.py", queue, Duration.ofSeconds(90)));

      assertEquals(5, out.get("add").asInt());
      assertEquals(42, out.get("kwargs").asInt());
      assertEquals(2, out.at("/countdown/value").asInt());
      assertTrue(out.at("/countdown/elapsed").asDouble() >= 1.9, "countdown not honoured: " + out);
      assertEquals(
          Json.MAPPER.readTree("{\"list\": [1, \"two\", null, true], \"nested\": {\"pi\": 3.14}}"),
          out.at("/eta/value"));
      assertTrue(out.at("/eta/elapsed").asDouble() >= 1.5, "eta not honoured: " + out);
      assertEquals("DemoFailure", out.at("/fail/type").asString(), out.toString());
      assertTrue(out.at("/fail/message").asString().contains("boom"), out.toString());
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void pickleProtocolOneAndCompressedMessagesFromCeleryGoToTheDeadLetterQueueUnrun()
      throws Exception {
    String queue = RabbitFixture.uniqueQueue("unsafe");
    try (AppProcess worker = AppProcess.worker(queue, 2);
        RabbitBroker broker = RabbitFixture.connect("CeleryInteropIT")) {
      PythonCelery.runScript("celery_unsafe.py", queue, Duration.ofSeconds(60));

      List<Delivery> dead = new CopyOnWriteArrayList<>();
      broker.consume(
          queue + ".dead-letter",
          ConsumeOptions.prefetch(10).withArgument("x-stream-offset", "first"),
          dead::add);
      Await.until(WAIT, "three dead letters", () -> dead.size() == 3);
      List<String> reasons =
          dead.stream()
              .map(d -> String.valueOf(d.message().headers().get("x-lovage-reason")))
              .sorted()
              .toList();
      assertTrue(reasons.get(0).contains("protocol v1"), reasons.toString());
      assertTrue(reasons.get(1).contains("compressed"), reasons.toString());
      assertTrue(reasons.get(2).contains("application/x-python-serialize"), reasons.toString());
      dead.forEach(Delivery::ack);
      assertEquals(200, worker.get("/health").statusCode(), "the worker is still up");
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void lovageClientGetsResultsAndErrorsFromACeleryWorker() throws Exception {
    String queue = RabbitFixture.uniqueQueue("to-celery");
    try (PythonCelery worker = PythonCelery.worker(queue);
        RabbitBroker broker = RabbitFixture.connect("CeleryInteropIT");
        TaskClient client =
            new TaskClient(broker, "CeleryInteropIT", QueueType.CLASSIC, Clock.systemUTC())) {

      assertEquals(
          5L,
          client
              .submit(TaskMessage.builder("py.add").args(2, 3).build(), queue)
              .get(WAIT, long.class));
      assertEquals(
          42L,
          client
              .submit(TaskMessage.builder("py.add").kwargs(Map.of("x", 40, "y", 2)).build(), queue)
              .get(WAIT, long.class));

      Instant eta = Instant.now().plusSeconds(2);
      TaskFuture delayed =
          client.submit(TaskMessage.builder("py.echo").args("later").eta(eta).build(), queue);
      assertEquals("later", delayed.get(WAIT, String.class));
      assertTrue(!Instant.now().isBefore(eta), "the Celery worker ran it before its eta");

      TaskFuture failing =
          client.submit(TaskMessage.builder("py.fail").args("boom").build(), queue);
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> failing.get(WAIT, Object.class));
      TaskFailedException failure = assertInstanceOf(TaskFailedException.class, e.getCause());
      assertEquals("ValueError", failure.type());
      assertEquals("boom", failure.remoteMessage());
      assertTrue(failure.remoteTraceback().contains("ValueError: boom"), failure.remoteTraceback());
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void taskSentOverRestToACeleryWorkerShowsItsStateAndResult() throws IOException {
    String queue = RabbitFixture.uniqueQueue("rest-celery");
    try (PythonCelery worker = PythonCelery.worker(queue)) {
      assertRestTasksOnACeleryWorkerEndWithTheirResults(queue, true);
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void taskSentOverRestToACeleryWorkerWithoutTaskEventsStillGetsItsResultAndError()
      throws IOException {
    String queue = RabbitFixture.uniqueQueue("rest-celery-quiet");
    try (PythonCelery worker =
        PythonCelery.worker(queue, "classic", Map.of("LOVAGE_TASK_EVENTS", "0"))) {
      assertRestTasksOnACeleryWorkerEndWithTheirResults(queue, false);
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  /**
   * py.add(2, 3) and py.fail("boom") over REST end SUCCESS 5 and FAILURE ValueError: from the
   * worker's task events, or from its rpc replies when it sends none.
   */
  private static void assertRestTasksOnACeleryWorkerEndWithTheirResults(
      String queue, boolean workerSendsEvents) throws IOException {
    try (AppProcess producer = AppProcess.producer()) {
      HttpResponse<String> ok =
          producer.post(
              "/tasks",
              "application/json",
              "{\"task\": \"py.add\", \"args\": [2, 3], \"queue\": \"" + queue + "\"}");
      HttpResponse<String> bad =
          producer.post(
              "/tasks",
              "application/json",
              "{\"task\": \"py.fail\", \"args\": [\"boom\"], \"queue\": \"" + queue + "\"}");
      assertEquals(202, ok.statusCode(), ok.body());
      assertEquals(202, bad.statusCode(), bad.body());

      JsonNode success =
          producer.awaitState(Json.MAPPER.readTree(ok.body()).get("id").asString(), "SUCCESS");
      assertEquals(5, success.get("result").asInt(), success.toString());
      if (workerSendsEvents) {
        assertTrue(success.get("worker").asString().startsWith("py-"), success.toString());
      }

      JsonNode failure =
          producer.awaitState(Json.MAPPER.readTree(bad.body()).get("id").asString(), "FAILURE");
      assertEquals("ValueError", failure.at("/error/type").asString(), failure.toString());
      assertTrue(
          failure.at("/error/traceback").asString().contains("ValueError: boom"),
          failure.toString());
    }
  }
}
