package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.security.TlsSettings;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import io.lovage.testing.TestCertificates;
import io.lovage.testing.TlsProxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TLS to RabbitMQ: the test broker behind TLS listeners with certificates made by openssl at test
 * time. The right CA connects (AMQP and the stream protocol); an unknown CA, a certificate for
 * another host and a missing client certificate are refused at once with a reason that says what to
 * change; the explicit opt-out connects to anything.
 */
class TlsIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static Path dir;
  private static TestCertificates.Signer ca;
  private static TestCertificates.Signer otherCa;
  private static TestCertificates.Signer localhost;
  private static TestCertificates.Signer otherHost;
  private static TestCertificates.Signer fromOtherCa;
  private static TestCertificates.Signer client;

  private final List<AutoCloseable> open = new ArrayList<>();
  private final String queue = RabbitFixture.uniqueQueue("tls");
  private final String stream = RabbitFixture.uniqueQueue("tls-stream");

  @BeforeAll
  static void makeCertificates() throws Exception {
    dir = Files.createTempDirectory("lovage-tls");
    ca = TestCertificates.make(dir, "lovage-test-ca");
    otherCa = TestCertificates.make(dir, "other-ca");
    localhost = TestCertificates.signed(dir, "localhost", ca, "DNS:localhost,IP:127.0.0.1");
    otherHost = TestCertificates.signed(dir, "other-host", ca, "DNS:other.example");
    fromOtherCa = TestCertificates.signed(dir, "impostor", otherCa, "DNS:localhost");
    client = TestCertificates.signed(dir, "lovage-client", ca, "DNS:lovage-client");
  }

  @AfterAll
  static void deleteCertificates() throws Exception {
    try (var files = Files.list(dir)) {
      for (Path file : files.toList()) {
        Files.delete(file);
      }
    }
    Files.delete(dir);
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (AutoCloseable closeable : open.reversed()) {
      closeable.close();
    }
    RabbitFixture.deleteQueues(queue, stream);
  }

  @Test
  void anAmqpsUriWithTheBrokersCaConnectsAndCarriesMessages() {
    RabbitBroker broker = connect(amqpProxy(localhost, false), tls(ca.certificate()));

    assertTrue(broker.isConnected());
    assertEquals("hello over TLS", roundTrip(broker));
  }

  @Test
  void aBrokerCertificateFromAnUnknownCaIsRefusedWithWhatToSet() {
    BrokerException refused =
        assertThrows(
            BrokerException.class,
            () -> connect(amqpProxy(fromOtherCa, false), tls(ca.certificate())));

    assertTrue(
        refused.getMessage().contains("not signed by a trusted CA: set LOVAGE_TLS_CA_FILE"),
        refused.getMessage());
  }

  @Test
  void aCertificateForAnotherHostNameIsRefusedThoughItsCaIsTrusted() {
    BrokerException refused =
        assertThrows(
            BrokerException.class,
            () -> connect(amqpProxy(otherHost, false), tls(ca.certificate())));

    assertTrue(
        refused.getMessage().contains("not for the host name 'localhost'"), refused.getMessage());
  }

  @Test
  void withoutTheCaFileTheJvmsTrustStoreDecidesAndRefusesATestCa() {
    assertThrows(
        BrokerException.class, () -> connect(amqpProxy(localhost, false), TlsSettings.DEFAULT));
  }

  @Test
  void theInsecureOptOutConnectsToAnyCertificateForAnyHost() {
    RabbitBroker broker =
        connect(amqpProxy(fromOtherCa, false), TlsSettings.of(null, null, null, "true"));

    assertEquals("hello over TLS", roundTrip(broker));
  }

  @Test
  void aBrokerThatAsksForAClientCertificateRefusesNoneAndAcceptsOneFromItsCa() {
    int port = amqpProxy(localhost, true);

    BrokerException refused =
        assertThrows(BrokerException.class, () -> connect(port, tls(ca.certificate())));
    assertTrue(
        refused.getMessage().contains("asks for a client certificate it accepts"),
        refused.getMessage());

    TlsSettings mutual =
        TlsSettings.of(
            ca.certificate().toString(),
            client.certificate().toString(),
            client.key().toString(),
            "");
    assertEquals("hello over TLS", roundTrip(connect(port, mutual)));
  }

  @Test
  void streamsAreReadOverTheStreamProtocolWithTheSameTrust() {
    int streamPort = proxy(localhost, false, "localhost", RabbitFixture.streamPort());
    BrokerSettings settings =
        settings(amqpProxy(localhost, false), tls(ca.certificate()))
            .withStreams(String.valueOf(streamPort), "localhost:" + streamPort);
    RabbitBroker broker = RabbitBroker.connect(settings);
    open.add(broker);
    broker.declare(
        new Topology(
            List.of(),
            List.of(new Topology.Queue(stream, Map.of("x-queue-type", "stream"))),
            List.of()));
    broker.publish("", stream, Message.text("in the stream")).join();

    List<Delivery> read = new CopyOnWriteArrayList<>();
    open.add(
        broker.consume(
            stream,
            ConsumeOptions.prefetch(10).withArgument("x-stream-offset", "first"),
            delivery -> {
              read.add(delivery);
              delivery.ack();
            }));
    Await.until(WAIT, "the stream's message read", () -> !read.isEmpty());

    assertInstanceOf(StreamMessages.StreamDelivery.class, read.getFirst());
    assertEquals(
        "in the stream", new String(read.getFirst().message().body(), StandardCharsets.UTF_8));
  }

  private static TlsSettings tls(Path caFile) {
    return TlsSettings.of(caFile.toString(), "", "", "");
  }

  private int amqpProxy(TestCertificates.Signer certificate, boolean clientCertificateRequired) {
    URI broker = URI.create(RabbitFixture.uri());
    return proxy(
        certificate,
        clientCertificateRequired,
        broker.getHost(),
        broker.getPort() < 0 ? 5672 : broker.getPort());
  }

  private int proxy(
      TestCertificates.Signer certificate,
      boolean clientCertificateRequired,
      String host,
      int port) {
    TlsProxy proxy = new TlsProxy(certificate, ca, clientCertificateRequired, host, port, 0);
    open.add(proxy);
    return proxy.port();
  }

  private BrokerSettings settings(int port, TlsSettings tls) {
    URI broker = URI.create(RabbitFixture.uri());
    String amqps =
        "amqps://" + broker.getRawUserInfo() + "@localhost:" + port + broker.getRawPath();
    return BrokerSettings.of(amqps, "TlsIT")
        .withConnectTimeout(Duration.ofSeconds(10))
        .withStreams("off", null)
        .withTls(tls);
  }

  private RabbitBroker connect(int port, TlsSettings tls) {
    RabbitBroker broker = RabbitBroker.connect(settings(port, tls));
    open.add(broker);
    return broker;
  }

  /** Publishes a message to a new queue and answers the body that comes back from it. */
  private String roundTrip(RabbitBroker broker) {
    broker.declare(
        new Topology(List.of(), List.of(new Topology.Queue(queue, Map.of())), List.of()));
    broker.publish("", queue, Message.text("hello over TLS")).join();
    List<Delivery> received = new CopyOnWriteArrayList<>();
    open.add(
        broker.consume(
            queue,
            ConsumeOptions.prefetch(1),
            delivery -> {
              received.add(delivery);
              delivery.ack();
            }));
    Await.until(WAIT, "the message back from " + queue, () -> !received.isEmpty());
    assertFalse(received.isEmpty());
    return new String(received.getFirst().message().body(), StandardCharsets.UTF_8);
  }
}
