package io.lovage.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.broker.Message;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** The codec against messages captured from Python Celery 5.2 (see resources/celery/). */
class TaskMessageCodecTest {

  @Test
  void encodedMessageIsWhatCelerySendsLessTheHeadersItSendsAsNone() throws IOException {
    JsonNode fixture = fixture("celery-5.2-task-message.json");
    TaskMessage message =
        TaskMessage.builder("demo.add")
            .id("a1b2c3d4-0000-4000-8000-000000000001")
            .args(2, 3)
            .kwargs(Map.of("z", 4))
            .origin("gen5703@vm")
            .replyTo(fixture.at("/properties/reply_to").asString())
            .build();

    assertWireEquals(fixture, TaskMessageCodec.encode(message));
  }

  @Test
  void encodedMessageWithEtaExpiresRetriesTimeLimitsAndCustomHeaderIsWhatCelerySendsLessItsNones()
      throws IOException {
    JsonNode fixture = fixture("celery-5.2-task-message-eta.json");
    TaskMessage message =
        TaskMessage.builder("demo.add")
            .id("a1b2c3d4-0000-4000-8000-000000000002")
            .args(2, 3)
            .kwargs(Map.of("z", 4))
            .eta(Instant.parse("2030-01-02T03:04:05Z"))
            .expires(Instant.parse("2030-01-03T00:00:00Z"))
            .retries(2)
            .timeLimit(new TaskMessage.TimeLimit(30.0, 60.0))
            .header("x-custom", "kept")
            .origin("gen5703@vm")
            .replyTo(fixture.at("/properties/reply_to").asString())
            .build();

    assertWireEquals(fixture, TaskMessageCodec.encode(message));
  }

  @Test
  void decodesTheCeleryFixture() throws Exception {
    TaskMessage decoded =
        TaskMessageCodec.decode(asReceived(fixture("celery-5.2-task-message-eta.json")));

    assertEquals("a1b2c3d4-0000-4000-8000-000000000002", decoded.id());
    assertEquals("demo.add", decoded.task());
    assertEquals("[2,3]", decoded.args().toString());
    assertEquals(4, decoded.kwargs().get("z").asInt());
    assertEquals(2, decoded.retries());
    assertEquals(Instant.parse("2030-01-02T03:04:05Z"), decoded.eta());
    assertEquals(Instant.parse("2030-01-03T00:00:00Z"), decoded.expires());
    assertEquals(new TaskMessage.TimeLimit(30.0, 60.0), decoded.timeLimit());
    assertEquals(decoded.id(), decoded.rootId());
    assertNull(decoded.parentId());
    assertEquals("gen5703@vm", decoded.origin());
    assertEquals("kept", decoded.extraHeaders().get("x-custom"));
  }

  @Test
  void decodingThenEncodingKeepsUnknownHeadersAndEmbedKeys() throws Exception {
    JsonNode fixture = fixture("celery-5.2-task-message-eta.json");
    Message received = asReceived(fixture);
    Map<String, Object> headers = new LinkedHashMap<>(received.headers());
    headers.put("x-trace", Map.of("span", "42"));
    String body =
        "[[2, 3], {\"z\": 4}, {\"callbacks\": null, \"errbacks\": null, \"chain\": null,"
            + " \"chord\": null, \"stamps\": {\"a\": 1}}]";
    Message withExtras =
        new Message(
            body.getBytes(StandardCharsets.UTF_8),
            headers,
            received.contentType(),
            received.contentEncoding(),
            received.correlationId(),
            received.replyTo(),
            received.priority(),
            true);

    Message again = TaskMessageCodec.encode(TaskMessageCodec.decode(withExtras));

    assertEquals(Map.of("span", "42"), again.headers().get("x-trace"));
    assertEquals("kept", again.headers().get("x-custom"));
    assertEquals(1, Json.MAPPER.readTree(again.body()).at("/2/stamps/a").asInt());
  }

  @Test
  void pickleContentTypeIsRejectedWithAReason() {
    Message pickle =
        new Message(
            new byte[] {(byte) 0x80, 4},
            validHeaders(),
            "application/x-python-serialize",
            "binary",
            null,
            null,
            null,
            true);

    MalformedMessageException e =
        assertThrows(MalformedMessageException.class, () -> TaskMessageCodec.decode(pickle));
    assertTrue(e.getMessage().contains("application/x-python-serialize"), e.getMessage());
  }

  @Test
  void protocolVersionOneIsRejectedWithAReason() {
    Message v1 =
        Message.json(
            "{\"task\": \"demo.add\", \"id\": \"1\", \"args\": [1, 2]}"
                .getBytes(StandardCharsets.UTF_8),
            Map.of());

    MalformedMessageException e =
        assertThrows(MalformedMessageException.class, () -> TaskMessageCodec.decode(v1));
    assertTrue(e.getMessage().contains("protocol v1"), e.getMessage());
  }

  @Test
  void compressedMessageIsRejectedWithAReason() {
    Map<String, Object> headers = validHeaders();
    headers.put("compression", "application/x-gzip");
    Message zipped = Message.json(new byte[] {31, -117, 8}, headers);

    MalformedMessageException e =
        assertThrows(MalformedMessageException.class, () -> TaskMessageCodec.decode(zipped));
    assertTrue(e.getMessage().contains("compressed"), e.getMessage());
  }

  @Test
  void bodyThatIsNotJsonIsRejectedWithAReason() {
    Message garbage =
        Message.json("[[1], {}, nul".getBytes(StandardCharsets.UTF_8), validHeaders());

    MalformedMessageException e =
        assertThrows(MalformedMessageException.class, () -> TaskMessageCodec.decode(garbage));
    assertTrue(e.getMessage().startsWith("body is not valid JSON"), e.getMessage());
  }

  @Test
  void bodyOfTheWrongShapeIsRejectedWithAReason() {
    Message wrong =
        Message.json("{\"args\": [1]}".getBytes(StandardCharsets.UTF_8), validHeaders());

    MalformedMessageException e =
        assertThrows(MalformedMessageException.class, () -> TaskMessageCodec.decode(wrong));
    assertTrue(e.getMessage().contains("[args, kwargs, embed]"), e.getMessage());
  }

  @Test
  void argsReprIsPythonRepr() {
    TaskMessage message =
        TaskMessage.builder("demo.echo").args("it's", true, null, 1.5, List.of(1)).build();

    assertEquals("[\"it's\", True, None, 1.5, [1]]", message.argsrepr());
  }

  private static Map<String, Object> validHeaders() {
    Map<String, Object> headers = new LinkedHashMap<>();
    headers.put("task", "demo.add");
    headers.put("id", "00000000-0000-4000-8000-000000000000");
    return headers;
  }

  /** The message as the Java client hands it over: headers with Python's wire types. */
  static Message asReceived(JsonNode fixture) {
    Map<String, Object> headers =
        Json.MAPPER.convertValue(
            fixture.get("headers"), new TypeReference<LinkedHashMap<String, Object>>() {});
    JsonNode p = fixture.get("properties");
    return new Message(
        fixture.get("body_raw").asString().getBytes(StandardCharsets.UTF_8),
        headers,
        p.get("content_type").asString(),
        p.get("content_encoding").asString(),
        p.get("correlation_id").asString(),
        p.get("reply_to").asString(),
        p.get("priority").asInt(),
        p.get("delivery_mode").asInt() == 2);
  }

  /**
   * Celery's message, but for the headers it sends as None ({@code shadow}, {@code group_index},
   * {@code timelimit} of {@code [None, None]}, …): Celery reads each with {@code .get()}, where
   * absent is None, and Lovage leaves them out (the Celery interop tests prove Celery runs them).
   */
  private static void assertWireEquals(JsonNode fixture, Message encoded) {
    ObjectNode expected = (ObjectNode) fixture.get("headers").deepCopy();
    expected
        .properties()
        .removeIf(
            header ->
                header.getValue().isNull()
                    || header.getValue().isArray()
                        && header.getValue().valueStream().allMatch(JsonNode::isNull));
    assertEquals(expected, Json.MAPPER.valueToTree(encoded.headers()), "headers");
    assertEquals(fixture.get("body"), Json.MAPPER.readTree(encoded.body()), "body");
    JsonNode p = fixture.get("properties");
    assertEquals(p.get("content_type").asString(), encoded.contentType());
    assertEquals(p.get("content_encoding").asString(), encoded.contentEncoding());
    assertEquals(p.get("correlation_id").asString(), encoded.correlationId());
    assertEquals(p.get("reply_to").asString(), encoded.replyTo());
    assertEquals(p.get("priority").asInt(), encoded.priority());
    assertEquals(p.get("delivery_mode").asInt() == 2, encoded.persistent());
  }

  static JsonNode fixture(String name) throws IOException {
    try (InputStream in = TaskMessageCodecTest.class.getResourceAsStream("/celery/" + name)) {
      return Json.MAPPER.readTree(in);
    }
  }
}
