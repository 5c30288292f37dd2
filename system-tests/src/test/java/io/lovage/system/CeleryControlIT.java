package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskFailedException;
import io.lovage.TaskFuture;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Celery's own command line (Debian's Celery 5.2) inspects and controls a Lovage worker through the
 * pidbox: what `celery inspect` prints is Lovage's answer.
 */
class CeleryControlIT {
  private static final Duration CLI = Duration.ofSeconds(60);
  private final String queue = RabbitFixture.uniqueQueue("control");

  @AfterEach
  void cleanUp() {
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void celeryInspectPingRegisteredStatsAndActiveQueuesSeeALovageWorker() throws Exception {
    try (AppProcess worker = AppProcess.worker(queue, 4)) {
      String name = name(worker);

      assertEquals("pong", inspect(name, "ping").path("ok").asString());
      assertTrue(
          Json.MAPPER
              .convertValue(inspect(name, "registered"), java.util.List.class)
              .contains("demo.add"));
      assertTrue(inspect(name, "stats").path("pool").has("max-concurrency"));
      assertEquals(queue, inspect(name, "active_queues").at("/0/name").asString());
    }
  }

  @Test
  void celeryInspectActiveShowsARunningLovageTaskAndControlTerminateStopsIt() throws Exception {
    try (AppProcess worker = AppProcess.worker(queue, 4);
        RabbitBroker broker = RabbitFixture.connect("control");
        TaskClient client = new TaskClient(broker, "control")) {
      String name = name(worker);
      TaskFuture sleeping =
          client.submit(TaskMessage.builder("demo.sleep").args(60).build(), queue);

      Await.until(
          CLI,
          "celery inspect active to show the task",
          () -> inspect(name, "active").toString().contains(sleeping.id()));
      String revoked =
          PythonCelery.command(
              queue, CLI, "control", "terminate", "SIGTERM", sleeping.id(), "-d", name, "-t", "10");

      assertTrue(revoked.contains("flagged as revoked"), revoked);
      ExecutionException ended =
          assertThrows(ExecutionException.class, () -> sleeping.get(30, TimeUnit.SECONDS));
      TaskFailedException error = assertInstanceOf(TaskFailedException.class, ended.getCause());
      assertTrue(
          error.type().contains("Revoked") || error.getMessage().contains("revoked"),
          error.toString());
    }
  }

  @Test
  void celeryControlAddConsumerMakesALovageWorkerRunAnotherQueueAndCancelConsumerStopsIt()
      throws Exception {
    String extra = RabbitFixture.uniqueQueue("control-extra");
    try (AppProcess worker = AppProcess.worker(queue, 4);
        RabbitBroker broker = RabbitFixture.connect("control");
        TaskClient client = new TaskClient(broker, "control")) {
      String name = name(worker);

      String added =
          PythonCelery.command(
              queue, CLI, "control", "add_consumer", extra, "-d", name, "-t", "10");
      TaskFuture sum = client.submit(TaskMessage.builder("demo.add").args(2, 3).build(), extra);

      assertTrue(added.contains("add consumer " + extra), added);
      assertEquals(5, sum.get(Duration.ofSeconds(30), long.class));
      assertTrue(inspect(name, "active_queues").toString().contains(extra));

      String cancelled =
          PythonCelery.command(
              queue, CLI, "control", "cancel_consumer", extra, "-d", name, "-t", "10");

      assertTrue(cancelled.contains("no longer consuming from " + extra), cancelled);
      assertTrue(!inspect(name, "active_queues").toString().contains(extra));
    } finally {
      RabbitFixture.deleteTaskQueue(extra);
    }
  }

  @Test
  void celeryControlShutdownStopsALovageWorkerAsSigtermDoes() throws Exception {
    AppProcess worker = AppProcess.worker(queue, 4);
    try {
      String answer =
          PythonCelery.command(queue, CLI, "control", "shutdown", "-d", name(worker), "-t", "10");

      assertTrue(answer.contains("shutdown signal sent"), answer);
      assertEquals(0, worker.awaitExit(Duration.ofSeconds(60)), "exit code, log " + worker.log());
    } finally {
      worker.close();
    }
  }

  @Test
  void anUnknownCommandAnswersAnErrorAndTheWorkerStillAnswersPing() throws Exception {
    try (AppProcess worker = AppProcess.worker(queue, 4)) {
      String name = name(worker);

      JsonNode answer = inspect(name, "objgraph");

      assertTrue(answer.has("error"), answer.toString());
      assertEquals("pong", inspect(name, "ping").path("ok").asString());
    }
  }

  @Test
  void aRevokeFromLovageReachesACeleryWorkersInMemoryRevokedSet() throws Exception {
    String classic = RabbitFixture.uniqueQueue("control-py");
    try (PythonCelery celery = PythonCelery.worker(classic);
        RabbitBroker broker = RabbitFixture.connect("control");
        TaskClient client = new TaskClient(broker, "control")) {
      String celeryName = "py-" + classic + "@" + InetAddress.getLocalHost().getHostName();
      String id = java.util.UUID.randomUUID().toString();

      client.revoke(id, false).get(10, TimeUnit.SECONDS);

      Await.until(
          CLI,
          "the Celery worker to list the revoked id",
          () -> {
            String output =
                PythonCelery.command(
                    classic, CLI, "inspect", "revoked", "-d", celeryName, "-j", "-t", "5");
            return output.contains(id);
          });
    } finally {
      RabbitFixture.deleteTaskQueue(classic);
    }
  }

  /** The worker's node name, as Celery's commands address it. */
  private static String name(AppProcess worker) throws Exception {
    return worker.workerNamePrefix() + InetAddress.getLocalHost().getHostName();
  }

  /** {@code celery inspect <command> -d name -j}: this worker's answer. */
  private JsonNode inspect(String name, String command) {
    String output =
        PythonCelery.command(queue, CLI, "inspect", command, "-d", name, "-j", "-t", "10");
    JsonNode all = Json.MAPPER.readTree(output.substring(output.indexOf('{')));
    assertTrue(all.has(name), "no answer from " + name + ": " + output);
    return all.get(name);
  }
}
