package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import io.lovage.testing.TestCertificates;
import io.lovage.testing.TestCertificates.Signer;
import io.lovage.testing.TlsProxy;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The jars over TLS to RabbitMQ, as a user deploys them: {@code amqps://} with {@code
 * LOVAGE_TLS_CA_FILE}, the stream protocol and the management API behind TLS listeners too. A task
 * runs and {@code GET /queues} answers; when the broker's certificate is replaced by one the CA did
 * not sign, {@code GET /health} says so.
 */
class BrokerTlsIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path dir;
  static Signer ca;
  static Signer localhost;
  static Signer impostor;

  private final String queue = RabbitFixture.uniqueQueue("tls");
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeAll
  static void certificates() {
    ca = TestCertificates.make(dir, "lovage-test-ca");
    localhost = TestCertificates.signed(dir, "localhost", ca, "DNS:localhost,IP:127.0.0.1");
    Signer otherCa = TestCertificates.make(dir, "other-ca");
    impostor = TestCertificates.signed(dir, "impostor", otherCa, "DNS:localhost");
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (AutoCloseable closeable : open.reversed()) {
      closeable.close();
    }
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void overTlsATaskRunsQueuesAreListedAndHealthSaysWhenTheBrokersCertificateIsNoLongerTrusted()
      throws Exception {
    URI broker = URI.create(RabbitFixture.uri());
    URI management =
        URI.create(
            RabbitFixture.managementUri() != null
                ? RabbitFixture.managementUri()
                : "http://" + broker.getRawUserInfo() + "@" + broker.getHost() + ":15672");
    TlsProxy amqp = proxy(localhost, broker.getHost(), broker.getPort(), 0);
    int streams = proxy(localhost, broker.getHost(), RabbitFixture.streamPort(), 0).port();
    int api = proxy(localhost, management.getHost(), management.getPort(), 0).port();
    Map<String, String> env = new HashMap<>();
    env.put(
        "RABBITMQ_URI",
        "amqps://" + broker.getRawUserInfo() + "@localhost:" + amqp.port() + broker.getRawPath());
    env.put("LOVAGE_TLS_CA_FILE", ca.certificate().toString());
    env.put("LOVAGE_STREAM_PORT", String.valueOf(streams));
    env.put("RABBITMQ_STREAM_ADDRESSES", "localhost:" + streams);
    env.put(
        "LOVAGE_MANAGEMENT_URI", "https://" + management.getRawUserInfo() + "@localhost:" + api);

    Map<String, String> workerEnv = new HashMap<>(env);
    workerEnv.put("LOVAGE_QUEUES", queue);
    AppProcess worker = AppProcess.startWorker(workerEnv);
    open.add(worker);
    AppProcess producer = AppProcess.startProducer(env);
    open.add(producer);
    worker.awaitHealthy();
    producer.awaitHealthy().awaitHistoryRead();

    String id =
        producer.submitTask(
            "{\"task\": \"demo.add\", \"args\": [20, 22], \"queue\": \"" + queue + "\"}");
    assertEquals(42, producer.awaitState(id, "SUCCESS").get("result").asInt());
    HttpResponse<String> queues = producer.get("/queues");
    assertEquals(200, queues.statusCode(), queues.body());
    assertTrue(queues.body().contains(queue), queues.body());

    // The broker's AMQP listener now shows a certificate the CA did not sign.
    int port = amqp.port();
    amqp.close();
    proxy(impostor, broker.getHost(), broker.getPort(), port);

    JsonNode health =
        Await.until(
            WAIT,
            "the producer's /health to say why the broker connection is down",
            () -> {
              try {
                HttpResponse<String> response = producer.get("/health");
                JsonNode body = Json.MAPPER.readTree(response.body());
                JsonNode error = body.path("components").path("rabbitmq").path("error");
                // At first it is down, reconnecting; then the reconnect fails on the certificate.
                return response.statusCode() == 503 && error.asString("").contains("CA")
                    ? Optional.of(body)
                    : Optional.<JsonNode>empty();
              } catch (java.io.IOException e) {
                return Optional.<JsonNode>empty();
              }
            });
    String error = health.path("components").path("rabbitmq").path("error").asString();
    assertTrue(error.contains("not signed by a trusted CA"), error);
  }

  @Test
  void theProducerServesHttpsOnlyWithTheKeyStoreMicronautIsGiven() throws Exception {
    Path store = dir.resolve("producer.p12");
    TestCertificates.openssl(
        "pkcs12",
        "-export",
        "-in",
        localhost.certificate().toString(),
        "-inkey",
        localhost.key().toString(),
        "-out",
        store.toString(),
        "-passout",
        "pass:changeit");
    int https = freePort();
    Map<String, String> env = new HashMap<>();
    env.put("MICRONAUT_SERVER_SSL_ENABLED", "true");
    env.put("MICRONAUT_SERVER_SSL_PORT", String.valueOf(https));
    env.put("MICRONAUT_SERVER_SSL_KEY_STORE_PATH", "file:" + store);
    env.put("MICRONAUT_SERVER_SSL_KEY_STORE_TYPE", "PKCS12");
    env.put("MICRONAUT_SERVER_SSL_KEY_STORE_PASSWORD", "changeit");
    AppProcess producer = AppProcess.startProducer(env);
    open.add(producer);
    java.net.http.HttpClient client =
        java.net.http.HttpClient.newBuilder()
            .sslContext(
                io.lovage.security.TlsSettings.of(ca.certificate().toString(), null, null, null)
                    .sslContext())
            .build();
    java.net.http.HttpRequest health =
        java.net.http.HttpRequest.newBuilder(URI.create("https://localhost:" + https + "/health"))
            .build();
    int status =
        Await.until(
            Duration.ofSeconds(60),
            "the producer to answer /health over https",
            () -> {
              try {
                return Optional.of(
                    client.send(health, HttpResponse.BodyHandlers.ofString()).statusCode());
              } catch (java.io.IOException e) {
                return Optional.empty();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.empty();
              }
            });
    assertEquals(200, status);
    // With TLS on, Micronaut serves https only: the plain port does not answer.
    try {
      producer.get("/health");
      org.junit.jupiter.api.Assertions.fail("plain http answered beside https");
    } catch (java.io.IOException expected) {
      // refused
    }
  }

  private static int freePort() throws java.io.IOException {
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private TlsProxy proxy(Signer certificate, String host, int port, int listenOn) {
    TlsProxy proxy = new TlsProxy(certificate, ca, false, host, port < 0 ? 5672 : port, listenOn);
    open.add(proxy);
    return proxy;
  }
}
