package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Reading streams over RabbitMQ's stream protocol, against AMQP 0.9.1 as the reference. */
class StreamProtocolIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final String stream = RabbitFixture.uniqueQueue("stream-protocol");
  private final RabbitBroker streams = RabbitFixture.connect("StreamProtocolIT streams");
  private final RabbitBroker amqp =
      RabbitBroker.connect(
          RabbitFixture.settings("StreamProtocolIT amqp").withStreams("off", null));
  private final List<Subscription> subscriptions = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    subscriptions.forEach(Subscription::close);
    streams.close();
    amqp.close();
    RabbitFixture.deleteQueues(stream);
  }

  private void declareStream() {
    streams.declare(
        new Topology(
            List.of(),
            List.of(new Topology.Queue(stream, Map.of("x-queue-type", "stream"))),
            List.of()));
  }

  /** Messages with the headers and properties Lovage's publishers set, each its own number. */
  private void publish(int from, int count) {
    for (int i = from; i < from + count; i++) {
      Map<String, Object> headers = new LinkedHashMap<>();
      headers.put("task", "demo.add");
      headers.put("id", "task-" + i);
      headers.put("retries", i);
      headers.put("big", 10_000_000_000L + i);
      headers.put("eager", i % 2 == 0);
      headers.put("none", null);
      headers.put("ratio", 0.5);
      // A dead letter's reason: RabbitMQ 4.x stores x- headers as message annotations.
      headers.put("x-lovage-reason", "reason " + i);
      // RabbitMQ keeps no list or table header in a stream, over either protocol.
      headers.put("timelimit", Arrays.asList(null, 5));
      Message message =
          new Message(
              ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8),
              headers,
              "application/json",
              "utf-8",
              "corr-" + i,
              i % 3 == 0 ? "reply-" + i : null,
              i % 2 == 0 ? 7 : null,
              i % 5 != 0);
      streams.publish("", stream, message).join();
    }
  }

  /** What a broker delivers of the stream from {@code offset} until the message numbered last. */
  private List<Delivery> read(RabbitBroker broker, Object offset, int last) {
    List<Delivery> received = new CopyOnWriteArrayList<>();
    subscriptions.add(
        broker.consume(
            stream,
            ConsumeOptions.prefetch(100).withArgument("x-stream-offset", offset),
            delivery -> {
              received.add(delivery);
              delivery.ack();
            }));
    Await.until(
        WAIT,
        "message " + last + " read from " + offset,
        () -> !received.isEmpty() && number(received.get(received.size() - 1)) == last);
    return received;
  }

  private static int number(Delivery delivery) {
    JsonNode body = Json.MAPPER.readTree(delivery.message().body());
    return body.get("n").asInt();
  }

  private static List<Message> messages(List<Delivery> deliveries) {
    return deliveries.stream().map(Delivery::message).toList();
  }

  private static void assertSameDeliveries(List<Delivery> expected, List<Delivery> actual) {
    assertFalse(actual.isEmpty());
    assertEquals(messages(expected), messages(actual));
    actual.forEach(d -> assertInstanceOf(StreamMessages.StreamDelivery.class, d));
    expected.forEach(d -> assertFalse(d instanceof StreamMessages.StreamDelivery));
  }

  @Test
  void streamProtocolDeliversWhatAmqpDeliversForEveryOffsetForm() throws Exception {
    declareStream();
    publish(0, 50);
    Date midway = new Date();
    Await.until(WAIT, "the clock to move past the first messages", () -> new Date().after(midway));
    publish(50, 50);
    // A chunk of the stream can hold many messages: the offset points into the middle of one.
    long offset = 60;

    for (Object from : List.of("first", "last", offset, midway)) {
      List<Delivery> overAmqp = read(amqp, from, 99);
      List<Delivery> overStreamProtocol = read(streams, from, 99);
      assertSameDeliveries(
          overAmqp.stream().filter(d -> !(from instanceof Long) || offsetOf(d) >= offset).toList(),
          overStreamProtocol);
    }
    List<Delivery> first = read(streams, "first", 99);
    assertEquals(100, first.size());
    assertEquals(
        IntStream.range(0, 100).boxed().toList(),
        first.stream().map(d -> (int) offsetOf(d)).toList());
    assertEquals("task-3", first.get(3).message().headers().get("id"));
    assertEquals("reason 3", first.get(3).message().headers().get("x-lovage-reason"));
    assertEquals(3, first.get(3).message().headers().get("retries"));
    assertEquals(10_000_000_003L, first.get(3).message().headers().get("big"));
    assertEquals("reply-3", first.get(3).message().replyTo());
    assertEquals(7, first.get(4).message().priority());
    assertTrue(first.get(4).message().persistent());
    assertFalse(first.get(5).message().persistent());
  }

  @Test
  void nextDeliversOnlyWhatIsPublishedAfterTheConsumerStarted() {
    declareStream();
    publish(0, 10);
    List<Delivery> overAmqp = new CopyOnWriteArrayList<>();
    List<Delivery> overStreamProtocol = new CopyOnWriteArrayList<>();
    subscriptions.add(
        amqp.consume(
            stream,
            ConsumeOptions.prefetch(10).withArgument("x-stream-offset", "next"),
            overAmqp::add));
    subscriptions.add(
        streams.consume(
            stream,
            ConsumeOptions.prefetch(10).withArgument("x-stream-offset", "next"),
            overStreamProtocol::add));

    publish(10, 5);

    Await.until(
        WAIT,
        "five new messages each",
        () -> overAmqp.size() == 5 && overStreamProtocol.size() == 5);
    assertSameDeliveries(overAmqp, overStreamProtocol);
    assertEquals(10, offsetOf(overStreamProtocol.get(0)));
  }

  @Test
  void aClosedStreamPortFallsBackToAmqp() {
    declareStream();
    publish(0, 5);
    try (RabbitBroker closedPort =
        RabbitBroker.connect(
            RabbitFixture.settings("StreamProtocolIT closed port").withStreams("1", null))) {
      List<Delivery> received = read(closedPort, "first", 4);

      assertEquals(5, received.size());
      received.forEach(d -> assertFalse(d instanceof StreamMessages.StreamDelivery));
      assertEquals(4L, received.get(4).message().headers().get("x-stream-offset"));
    }
  }

  @Test
  void aStreamReaderResumesAfterItsConnectionIsClosedWithoutReadingAnythingTwice()
      throws Exception {
    declareStream();
    publish(0, 20);
    List<Delivery> received = new CopyOnWriteArrayList<>();
    subscriptions.add(
        streams.consume(
            stream,
            ConsumeOptions.prefetch(100).withArgument("x-stream-offset", "first"),
            received::add));
    Await.until(WAIT, "the first 20 messages", () -> received.size() == 20);
    assertInstanceOf(StreamMessages.StreamDelivery.class, received.get(0));

    int closed = closeConnections("StreamProtocolIT streams streams-consumer-");
    assertTrue(closed > 0, "no stream connection of this test found to close");
    publish(20, 20);

    Await.until(WAIT, "the next 20 messages after the reconnect", () -> received.size() >= 40);
    assertEquals(
        IntStream.range(0, 40).boxed().toList(),
        received.stream().map(d -> (int) offsetOf(d)).toList());
  }

  @Test
  void aSlowStreamReaderHoldsBackNoOtherReader() throws Exception {
    declareStream();
    publish(0, 20);
    CountDownLatch release = new CountDownLatch(1);
    subscriptions.add(
        streams.consume(
            stream,
            ConsumeOptions.prefetch(100).withArgument("x-stream-offset", "first"),
            delivery -> {
              try {
                release.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }));
    try {
      List<Delivery> other = read(streams, "first", 19);
      assertEquals(20, other.size());
    } finally {
      release.countDown();
    }
  }

  private static long offsetOf(Delivery delivery) {
    return ((Number) delivery.message().headers().get("x-stream-offset")).longValue();
  }

  /** Closes, through the management API, the connections whose names start with {@code name}. */
  private static int closeConnections(String name) throws Exception {
    String management = RabbitFixture.managementUri();
    URI base = URI.create(management != null ? management : "http://guest:guest@localhost:15672");
    String auth =
        Base64.getEncoder()
            .encodeToString(
                (base.getUserInfo() == null ? "guest:guest" : base.getUserInfo())
                    .getBytes(StandardCharsets.UTF_8));
    String root = base.getScheme() + "://" + base.getHost() + ":" + base.getPort() + "/api";
    HttpClient http = HttpClient.newHttpClient();
    // The management API lists a new connection after its stats tick: wait for it.
    List<String> names =
        Await.until(
            WAIT,
            "the management API to list connection " + name,
            () -> {
              try {
                JsonNode connections =
                    Json.MAPPER.readTree(
                        http.send(
                                HttpRequest.newBuilder(URI.create(root + "/connections"))
                                    .header("Authorization", "Basic " + auth)
                                    .build(),
                                HttpResponse.BodyHandlers.ofString())
                            .body());
                List<String> found = new ArrayList<>();
                for (JsonNode connection : connections) {
                  if (connection
                      .path("client_properties")
                      .path("connection_name")
                      .asString("")
                      .startsWith(name)) {
                    found.add(connection.get("name").asString());
                  }
                }
                return found.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(found);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    for (String connection : names) {
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          root
                              + "/connections/"
                              + URLEncoder.encode(connection, StandardCharsets.UTF_8)
                                  .replace("+", "%20")))
                  .header("Authorization", "Basic " + auth)
                  .DELETE()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertTrue(response.statusCode() / 100 == 2, "closing " + connection + ": " + response);
    }
    return names.size();
  }
}
