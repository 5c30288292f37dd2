package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.Delivery;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.security.MessageSecurity;
import io.lovage.security.MessageSigner;
import io.lovage.security.WireFormat;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import io.lovage.testing.TestCertificates;
import io.lovage.testing.TestCertificates.Signer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * Signed task messages between Lovage and Python Celery 5.2's {@code auth} serializer, with keys
 * and certificates openssl makes here: Celery signs and a Lovage worker that requires signatures
 * runs its tasks and refuses the rest; Lovage signs and a Celery worker with the auth serializer
 * runs its tasks.
 */
class SignedMessagesIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  static Signer celery;
  static Signer lovage;
  static Signer stranger;
  static Path trusted;

  @BeforeAll
  static void keys() throws Exception {
    celery = TestCertificates.make(dir, "celery-client");
    lovage = TestCertificates.make(dir, "lovage");
    stranger = TestCertificates.make(dir, "stranger");
    trusted = Files.createDirectory(dir.resolve("trusted"));
    Files.copy(celery.certificate(), trusted.resolve("celery-client.pem"));
    Files.copy(lovage.certificate(), trusted.resolve("lovage.pem"));
  }

  /** The settings, Lovage's and lovage_celery.py's alike, of one signer trusting the store. */
  static Map<String, String> signingAs(Signer signer) {
    Map<String, String> settings = new HashMap<>();
    settings.put("LOVAGE_SECURITY_KEY", signer.key().toString());
    settings.put("LOVAGE_SECURITY_CERTIFICATE", signer.certificate().toString());
    settings.put("LOVAGE_SECURITY_CERT_STORE", trusted.toString());
    return settings;
  }

  @Test
  void celeryClientWithTheAuthSerializerGetsResultsFromALovageWorkerThatRequiresSignatures() {
    String queue = RabbitFixture.uniqueQueue("signed");
    try (AppProcess worker = AppProcess.worker(queue, signingAs(lovage))) {
      Map<String, String> client = signingAs(celery);
      client.put("LOVAGE_SIGNED_MODE", "signed");
      JsonNode out =
          Json.MAPPER.readTree(
              PythonCelery.script("celery_signed.py", queue, client)
                  .lastLine(Duration.ofSeconds(90)));

      assertEquals(5, out.get("add").asInt(), out.toString());
      assertEquals(42, out.get("kwargs").asInt(), out.toString());
      assertEquals("DemoFailure", out.at("/fail/type").asString(), out.toString());
      if (out.has("layout_5_5")) {
        assertEquals(42, out.get("layout_5_5").asInt(), "signed in Celery 5.5's layout: " + out);
      }
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void unsignedTamperedAndStrangersMessagesGoToTheDeadLetterQueueUnrunAndTheWorkerStaysUp()
      throws Exception {
    String queue = RabbitFixture.uniqueQueue("signed-refused");
    try (AppProcess worker = AppProcess.worker(queue, signingAs(lovage));
        RabbitBroker broker = RabbitFixture.connect("SignedMessagesIT")) {
      Map<String, String> client = signingAs(celery);
      client.put("LOVAGE_SIGNED_MODE", "refused");
      client.put("STRANGER_KEY", stranger.key().toString());
      client.put("STRANGER_CERTIFICATE", stranger.certificate().toString());
      JsonNode sent =
          Json.MAPPER.readTree(
              PythonCelery.script("celery_signed.py", queue, client)
                  .lastLine(Duration.ofSeconds(60)));

      List<Delivery> dead = new CopyOnWriteArrayList<>();
      broker.consume(
          queue + ".dead-letter",
          ConsumeOptions.prefetch(10).withArgument("x-stream-offset", "first"),
          dead::add);
      Await.until(WAIT, "three dead letters", () -> dead.size() == 3);
      Map<String, String> reasons =
          dead.stream()
              .collect(
                  Collectors.toMap(
                      d -> String.valueOf(d.message().headers().get("id")),
                      d -> String.valueOf(d.message().headers().get("x-lovage-reason"))));
      dead.forEach(Delivery::ack);

      assertTrue(
          reasons.get(sent.get("unsigned").asString()).startsWith("unsigned message"),
          reasons.toString());
      assertTrue(
          reasons
              .get(sent.get("tampered").asString())
              .startsWith("bad signature from signer 'DE Lovage Test celery-client "),
          reasons.toString());
      assertTrue(
          reasons
              .get(sent.get("stranger").asString())
              .startsWith("unknown signer 'DE Lovage Test stranger "),
          reasons.toString());
      // Every message of this test was demo.echo: had any run, the worker would have counted it.
      assertTrue(
          !worker
              .get("/prometheus")
              .body()
              .contains("lovage_task_received_total{task=\"demo.echo\""),
          "a refused message ran");
      assertEquals(200, worker.get("/health").statusCode(), "the worker is still up");
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void lovageSignedTasksRunOnACeleryWorkerWithTheAuthSerializer() throws Exception {
    String queue = RabbitFixture.uniqueQueue("signed-to-celery");
    try (PythonCelery worker = PythonCelery.worker(queue, "classic", signingAs(celery));
        RabbitBroker broker = RabbitFixture.connect("SignedMessagesIT");
        TaskClient client =
            new TaskClient(
                broker,
                "SignedMessagesIT",
                QueueType.CLASSIC,
                Clock.systemUTC(),
                MessageSecurity.signingWith(
                    MessageSigner.fromPem(
                        lovage.key(), lovage.certificate(), celerysWireFormat())))) {

      assertEquals(
          5L,
          client
              .submit(TaskMessage.builder("py.add").args(2, 3).build(), queue)
              .get(WAIT, long.class));
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  /**
   * The layout of signed messages the Celery under test reads: 5.5 changed it, neither reads both.
   */
  private static WireFormat celerysWireFormat() {
    return PythonCelery.atLeast(5, 5) ? WireFormat.CELERY_5_5 : WireFormat.CELERY_5_2;
  }
}
