package io.lovage.system;

import com.rabbitmq.client.AMQP;
import io.lovage.protocol.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import tools.jackson.databind.JsonNode;

/**
 * Scenario 7's inputs: malformed, oversized, deeply nested, mistyped or hostile, sent to every door
 * of the system (the producer's REST API, the worker's HTTP port, and the task queue itself, past
 * the producer), and what each must come to: a clear 4xx problem, a dead letter with a reason, or
 * plain data that a task echoes back unchanged. Nothing may pick a Java class, run a command, or
 * take a process down.
 */
final class BadInputProbes {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final int MIB = 1024 * 1024;

  /** What a probe must come to. */
  enum Expect {
    /** a 4xx answer with an application/problem+json body that says what is wrong */
    REFUSED,
    /** accepted, then dead-lettered with a reason, never run as asked */
    DEAD_LETTER,
    /** accepted and run with the input as plain data: the task's result equals it */
    DATA
  }

  /** One input at one door, and what came of it. */
  static final class Probe {
    final String door;
    final String input;
    final Expect expect;
    String id;
    JsonNode expectedResult;

    /** For a message without an id: what its dead letter's reason must say. */
    String reasonContains;

    /** For a message with an id, if set: what its dead letter's reason must say. */
    String expectReason;

    String outcome = "no answer";
    boolean ok;

    Probe(String door, String input, Expect expect) {
      this.door = door;
      this.input = input;
      this.expect = expect;
    }

    @Override
    public String toString() {
      return door + " " + input + " → " + outcome;
    }
  }

  private final AppProcess producer;
  private final AppProcess worker;
  private final String queue;
  private final Path canary;
  private final List<Probe> probes = new ArrayList<>();

  BadInputProbes(AppProcess producer, AppProcess worker, String queue, Path canary) {
    this.producer = producer;
    this.worker = worker;
    this.queue = queue;
    this.canary = canary;
  }

  List<Probe> probes() {
    return probes;
  }

  void sendAll() throws IOException {
    restRefusals();
    restAccepted();
    headerInjection();
    workerDoor();
    rawMessages();
  }

  private void restRefusals() throws IOException {
    refused("malformed JSON", json("{\"task\": \"demo.add\", \"args\": [1, 2"));
    refused("not JSON at all", json("hello"));
    refused("a JSON array, not an object", json("[1, 2, 3]"));
    refused("wrong type: task is a number", json("{\"task\": 42}"));
    refused("wrong type: args is an object", json(task("\"demo.add\"", "\"args\": {\"x\": 1}")));
    refused("wrong type: kwargs is an array", json(task("\"demo.add\"", "\"kwargs\": [1]")));
    refused(
        "wrong type: countdown is a string",
        json(task("\"demo.noop\"", "\"countdown\": \"soon\"")));
    refused("unknown field", json(task("\"demo.noop\"", "\"shell\": \"rm -rf /\"")));
    refused("huge countdown 1e300", json(task("\"demo.noop\"", "\"countdown\": 1e300")));
    refused(
        "integer of 100,000 digits",
        json(task("\"demo.add\"", "\"args\": [" + "9".repeat(100_000) + ", 1]")));
    refused(
        "10,000 nested arrays",
        json(task("\"demo.echo\"", "\"args\": [" + "[".repeat(10_000) + "]".repeat(10_000) + "]")));
    refused(
        "10,000 nested objects",
        json(
            task(
                "\"demo.echo\"",
                "\"args\": [" + "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000) + "]")));
    String tenMib = task("\"demo.echo\"", "\"args\": [\"" + "x".repeat(10 * MIB) + "\"]");
    refused("10 MiB body", json(tenMib));
    refused(
        "10 MiB body, chunked",
        post(
            "/tasks",
            "application/json",
            HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(tenMib.getBytes(StandardCharsets.UTF_8)))));
    refused(
        "10 MiB batch",
        post(
            "/tasks/batch",
            "application/json",
            HttpRequest.BodyPublishers.ofString("[" + tenMib + "]")));
    refused("CR/LF in the task name", json("{\"task\": \"demo.noop\\r\\nSet-Cookie: evil=1\"}"));
    refused(
        "CR/LF in the queue name",
        json("{\"task\": \"demo.noop\", \"queue\": \"q\\r\\nSet-Cookie: evil=1\"}"));
    refused(
        "Idempotency-Key of 300 characters",
        httpSend(
            request("/tasks")
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "k".repeat(300))
                .POST(HttpRequest.BodyPublishers.ofString(task("\"demo.noop\"", null)))
                .build()));
    refused(
        "Java serialization (application/x-java-serialized-object)",
        post(
            "/tasks",
            "application/x-java-serialized-object",
            HttpRequest.BodyPublishers.ofByteArray(javaSerialized())));
  }

  private void restAccepted() throws IOException {
    JsonNode typed = Json.MAPPER.readTree("[\"java.util.HashMap\", {\"a\": 1}]");
    accepted(
        "polymorphic typing array [\"java.util.HashMap\", {…}] to demo.echo",
        Expect.DATA,
        "demo.echo",
        "\"args\": [" + typed + "]",
        typed);
    raw(
        "forged Celery auth-signed message (application/data) to a worker without a cert store",
        "demo.echo",
        null,
        "application/data",
        Map.of(),
        forgedSignedBody());
    JsonNode processBuilder =
        Json.MAPPER.readTree(
            "{\"@class\": \"java.lang.ProcessBuilder\", \"command\": [\"touch\", "
                + Json.MAPPER.writeValueAsString(canary.toString())
                + "]}");
    accepted(
        "{\"@class\": \"java.lang.ProcessBuilder\"} in kwargs to demo.echo",
        Expect.DATA,
        "demo.echo",
        "\"kwargs\": {\"value\": " + processBuilder + "}",
        processBuilder);
    accepted(
        "{\"@class\": \"java.lang.Double\"} for a double parameter (demo.sleep)",
        Expect.DEAD_LETTER,
        "demo.sleep",
        "\"args\": [{\"@class\": \"java.lang.Double\", \"value\": 0}]",
        null);
    // Jackson 3 ignores a field a record does not have: the class name is dropped as data.
    accepted(
        "{\"@class\": …} inside a record parameter (billing.invoice)",
        Expect.DATA,
        "billing.invoice",
        "\"kwargs\": {\"orderId\": \"o-1\", \"vatRate\": 0.2, \"lines\": ["
            + ((tools.jackson.databind.node.ObjectNode) processBuilder.deepCopy())
                .put("sku", "a")
                .put("quantity", 1)
                .put("unitPrice", 1)
            + "]}",
        Json.MAPPER.readTree("{\"orderId\": \"o-1\", \"net\": 1, \"vat\": 0.2, \"total\": 1.2}"));
    accepted(
        "number 1e999999999 (beyond double) to demo.add",
        Expect.DEAD_LETTER,
        "demo.add",
        "\"args\": [1e999999999, 1]",
        null);
    JsonNode big = Json.MAPPER.readTree("1" + "0".repeat(900));
    accepted(
        "integer of 900 digits to demo.add",
        Expect.DATA,
        "demo.add",
        "\"args\": [" + "9".repeat(900) + ", 1]",
        big);
    accepted(
        "CR/LF and a newline in a demo.mark key",
        Expect.DEAD_LETTER,
        "demo.mark",
        "\"args\": [\"a\\r\\nb\"]",
        null);
    // Refused, never run with U+FFFD in place of the bytes the client sent.
    Probe utf8 =
        new Probe("POST /tasks", "invalid UTF-8 in a string (bytes C3 28 FF)", Expect.REFUSED);
    probes.add(utf8);
    ByteArrayOutputStream bad = new ByteArrayOutputStream();
    bad.writeBytes(
        ("{\"task\": \"demo.echo\", \"queue\": \"" + queue + "\", \"args\": [\"")
            .getBytes(StandardCharsets.UTF_8));
    bad.writeBytes(new byte[] {(byte) 0xC3, (byte) 0x28, (byte) 0xFF});
    bad.writeBytes("\"]}".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> r =
        post(
            "/tasks",
            "application/json",
            HttpRequest.BodyPublishers.ofByteArray(bad.toByteArray()));
    judge(utf8, r);
  }

  private void headerInjection() throws IOException {
    Probe path =
        new Probe("GET /tasks/{id}", "CR/LF + Set-Cookie in the path (%0D%0A)", Expect.REFUSED);
    probes.add(path);
    RawHttp.Response r =
        RawHttp.send(
            producer.port(), "GET /tasks/x%0D%0ASet-Cookie:%20evil=1 HTTP/1.1", new byte[0]);
    judgeRaw(path, r);
    Probe bareCr =
        new Probe("POST /tasks", "bare CR + Set-Cookie inside a header value", Expect.REFUSED);
    probes.add(bareCr);
    r =
        RawHttp.send(
            producer.port(),
            "POST /tasks HTTP/1.1\r\nContent-Type: application/json\r\nIdempotency-Key: a\rSet-Cookie: evil=1",
            task("\"demo.noop\"", null).getBytes(StandardCharsets.UTF_8));
    judgeRaw(bareCr, r);
    Probe target = new Probe("GET /tasks/{id}", "raw CR/LF in the request line", Expect.REFUSED);
    probes.add(target);
    r = RawHttp.send(producer.port(), "GET /tasks/x\r\nSet-Cookie: evil=1 HTTP/1.1", new byte[0]);
    judgeRaw(target, r);
  }

  /** A raw answer passes if it is a 4xx and carries no header the request tried to inject. */
  private static void judgeRaw(Probe probe, RawHttp.Response r) {
    probe.outcome =
        r.status()
            + (r.has("Set-Cookie") ? " WITH an injected Set-Cookie" : ", no injected header");
    probe.ok = r.status() >= 400 && r.status() < 500 && !r.has("Set-Cookie");
  }

  private void workerDoor() throws IOException {
    Probe post = new Probe("worker POST /health", "10,000 nested arrays", Expect.REFUSED);
    probes.add(post);
    HttpResponse<String> r =
        httpSend(
            HttpRequest.newBuilder(URI.create("http://localhost:" + worker.port() + "/health"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("[".repeat(10_000) + "]".repeat(10_000)))
                .build());
    judge(post, r);
    Probe path = new Probe("worker GET", "CR/LF + Set-Cookie in the path", Expect.REFUSED);
    probes.add(path);
    judgeRaw(
        path,
        RawHttp.send(worker.port(), "GET /x%0D%0ASet-Cookie:%20evil=1 HTTP/1.1", new byte[0]));
  }

  private void rawMessages() throws IOException {
    byte[] garbage = new byte[4096];
    new Random(7).nextBytes(garbage);
    rawWithoutHeaders("random bytes, no headers at all", garbage, "not valid JSON");
    raw("random bytes with task headers", "demo.noop", null, "application/json", Map.of(), garbage);
    raw(
        "Java serialization (application/x-java-serialized-object)",
        "demo.echo",
        null,
        "application/x-java-serialized-object",
        Map.of(),
        javaSerialized());
    raw(
        "pickle (application/x-python-serialize)",
        "demo.echo",
        null,
        "application/x-python-serialize",
        Map.of(),
        new byte[] {(byte) 0x80, 4, 'N', '.'});
    raw(
        "gzip-compressed body",
        "demo.echo",
        null,
        "application/json",
        Map.of("compression", "application/x-gzip"),
        new byte[] {0x1f, (byte) 0x8b, 8, 0});
    raw(
        "task header is a number",
        null,
        42,
        "application/json",
        Map.of(),
        "[[], {}, {}]".getBytes(StandardCharsets.UTF_8));
    raw(
        "task named java.lang.Runtime.exec",
        "java.lang.Runtime.exec",
        null,
        "application/json",
        Map.of(),
        "[[\"touch /tmp/x\"], {}, {}]".getBytes(StandardCharsets.UTF_8));
    rawWithoutHeaders(
        "Celery protocol v1 message (task and id in the body)",
        "{\"task\": \"demo.noop\", \"id\": \"x\", \"args\": []}".getBytes(StandardCharsets.UTF_8),
        "protocol v1");
    raw(
        "10,000 nested arrays in the body",
        "demo.echo",
        null,
        "application/json",
        Map.of(),
        ("[[" + "[".repeat(10_000) + "]".repeat(10_000) + "], {}, {}]")
            .getBytes(StandardCharsets.UTF_8));
    raw(
        "header eta is not a time",
        "demo.noop",
        null,
        "application/json",
        Map.of("eta", "tomorrow"),
        "[[], {}, {}]".getBytes(StandardCharsets.UTF_8));
    JsonNode processBuilder =
        Json.MAPPER.readTree(
            "{\"@class\": \"java.lang.ProcessBuilder\", \"command\": [\"touch\", "
                + Json.MAPPER.writeValueAsString(canary.toString())
                + "]}");
    raw(
        "{\"@class\": \"java.lang.ProcessBuilder\"} to demo.echo",
        "demo.echo",
        null,
        "application/json",
        Map.of(),
        ("[[" + processBuilder + "], {}, {}]").getBytes(StandardCharsets.UTF_8),
        processBuilder);
  }

  /**
   * Messages to a worker that runs signed messages only ({@code LOVAGE_SECURITY_CERT_STORE}): an
   * unsigned one, one from a signer it does not know, and one of a signer it trusts whose arguments
   * were changed after signing. Each must be dead-lettered with its reason, never run.
   */
  void sendSignatureProbes(io.lovage.security.MessageSigner trusted) {
    raw(
                "unsigned Celery message to a worker that requires signatures",
                "demo.echo",
                null,
                "application/json",
                Map.of(),
                echoArguments("unsigned"))
            .expectReason =
        "unsigned message";
    raw(
                "forged auth-signed message from an unknown signer to a worker that requires"
                    + " signatures",
                "demo.echo",
                null,
                "application/data",
                Map.of(),
                forgedSignedBody())
            .expectReason =
        "unknown signer";
    io.lovage.broker.Message signed =
        trusted.sign(io.lovage.broker.Message.json(echoArguments("tampered-probe"), Map.of()));
    String wrapped =
        new String(
            java.util.Base64.getDecoder().decode(signed.body()), StandardCharsets.ISO_8859_1);
    byte[] tampered =
        java.util.Base64.getEncoder()
            .encode(
                wrapped
                    .replace("tampered-probe", "tampered-PROBE")
                    .getBytes(StandardCharsets.ISO_8859_1));
    raw(
                "a trusted signer's message with its arguments changed after signing",
                "demo.echo",
                null,
                signed.contentType(),
                Map.of(),
                tampered)
            .expectReason =
        "bad signature";
  }

  private static byte[] echoArguments(String value) {
    return ("[[" + Json.MAPPER.writeValueAsString(value) + "], {}, {}]")
        .getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Celery's auth layout (5.2) naming a signer nobody trusts, with 256 random bytes as signature: a
   * worker must refuse it whether or not it has a certificate store.
   */
  private byte[] forgedSignedBody() {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    byte[] separator = {0, 1};
    byte[] signature = new byte[256];
    new Random(19).nextBytes(signature);
    raw.writeBytes("Mallory 1".getBytes(StandardCharsets.UTF_8));
    raw.writeBytes(separator);
    raw.writeBytes(signature);
    raw.writeBytes(separator);
    raw.writeBytes("application/json".getBytes(StandardCharsets.UTF_8));
    raw.writeBytes(separator);
    raw.writeBytes("utf-8".getBytes(StandardCharsets.UTF_8));
    raw.writeBytes(separator);
    raw.writeBytes(
        ("[[" + Json.MAPPER.writeValueAsString("forged") + "], {}, {}]")
            .getBytes(StandardCharsets.UTF_8));
    return java.util.Base64.getEncoder().encode(raw.toByteArray());
  }

  /**
   * Publishes one message straight to the task queue. With a task name (or {@code taskHeader}) it
   * carries Celery's headers {@code task} and {@code id}; its expectation is a dead letter unless
   * the caller sets an expected result (then it must run as data).
   */
  private void rawWithoutHeaders(String input, byte[] body, String reasonContains) {
    raw(input, null, null, "application/json", Map.of(), body).reasonContains = reasonContains;
  }

  private Probe raw(
      String input,
      String taskName,
      Object taskHeader,
      String contentType,
      Map<String, Object> extra,
      byte[] body) {
    return raw(input, taskName, taskHeader, contentType, extra, body, null);
  }

  private Probe raw(
      String input,
      String taskName,
      Object taskHeader,
      String contentType,
      Map<String, Object> extra,
      byte[] body,
      JsonNode expectedResult) {
    Probe probe =
        new Probe(
            "task queue (AMQP)", input, expectedResult == null ? Expect.DEAD_LETTER : Expect.DATA);
    probe.expectedResult = expectedResult;
    probes.add(probe);
    Map<String, Object> headers = new HashMap<>(extra);
    if (taskName != null || taskHeader != null) {
      probe.id = UUID.randomUUID().toString();
      headers.put("id", probe.id);
      headers.put("task", taskHeader != null ? taskHeader : taskName);
    }
    RabbitAdmin.publishRaw(
        queue,
        new AMQP.BasicProperties.Builder()
            .contentType(contentType)
            .contentEncoding("utf-8")
            .headers(headers)
            .build(),
        body);
    probe.outcome = "published";
    return probe;
  }

  private void refused(String input, HttpResponse<String> r) {
    Probe probe = new Probe("POST /tasks", input, Expect.REFUSED);
    probes.add(probe);
    judge(probe, r);
  }

  /** A 4xx with a problem body whose detail says something passes. */
  private static void judge(Probe probe, HttpResponse<String> r) {
    String type = r.headers().firstValue("Content-Type").orElse("");
    probe.outcome = r.statusCode() + " " + shorten(detail(r.body()));
    probe.ok =
        r.statusCode() >= 400
            && r.statusCode() < 500
            && type.startsWith("application/problem+json")
            && !detail(r.body()).isBlank();
  }

  private void accepted(
      String input, Expect expect, String task, String fields, JsonNode expectedResult)
      throws IOException {
    Probe probe = new Probe("POST /tasks", input, expect);
    probe.expectedResult = expectedResult;
    probes.add(probe);
    HttpResponse<String> r = json(task("\"" + task + "\"", fields));
    if (r.statusCode() == 202) {
      probe.id = Json.MAPPER.readTree(r.body()).get("id").asString();
      probe.outcome = "202";
    } else {
      // Refusing it at the door is as good: nothing ran.
      judge(probe, r);
    }
  }

  /**
   * Waits for every accepted probe to finish, then judges it: a dead letter with a reason, or a
   * SUCCESS whose result is the input, unchanged.
   */
  void settle(Duration timeout) {
    List<Probe> pending = probes.stream().filter(p -> p.id != null && !p.ok).toList();
    Deadline.poll(
        timeout,
        () ->
            pending.stream().allMatch(this::settled)
                && probes.stream()
                    .filter(p -> p.reasonContains != null)
                    .allMatch(p -> anonymousDeadLetter(p.reasonContains).isPresent()));
    for (Probe p : pending) {
      Optional<JsonNode> task = producer.task(p.id);
      Optional<JsonNode> dead = deadLetter(p.id);
      String state = task.map(t -> t.get("state").asString()).orElse("unknown");
      if (p.expect == Expect.DATA) {
        JsonNode result = task.map(t -> t.get("result")).orElse(null);
        p.ok = "SUCCESS".equals(state) && p.expectedResult.equals(result);
        p.outcome =
            "ran as plain data: "
                + state
                + (p.ok
                    ? ", result equals the input"
                    : ", result " + shorten(String.valueOf(result)));
      } else {
        String reason = dead.map(d -> d.get("reason").asString("")).orElse("");
        p.ok = !reason.isBlank() && (p.expectReason == null || reason.contains(p.expectReason));
        p.outcome =
            dead.map(d -> "dead letter: " + shorten(d.get("reason").asString()))
                .orElse("no dead letter (state " + state + ")");
      }
    }
    for (Probe p : probes) {
      if (p.reasonContains != null) {
        Optional<JsonNode> dead = anonymousDeadLetter(p.reasonContains);
        p.ok = dead.isPresent();
        p.outcome =
            dead.map(d -> "dead letter: " + shorten(d.get("reason").asString()))
                .orElse("no dead letter");
      }
    }
  }

  /** A dead letter of a message without a task id whose reason says this. */
  private Optional<JsonNode> anonymousDeadLetter(String reasonContains) {
    return deadLetters().stream()
        .filter(
            d -> d.get("taskId").isNull() && d.get("reason").asString("").contains(reasonContains))
        .findFirst();
  }

  private boolean settled(Probe p) {
    if (p.expect == Expect.DATA) {
      return producer
          .task(p.id)
          .map(t -> Ledger.FINAL.contains(t.get("state").asString()))
          .orElse(false);
    }
    return deadLetter(p.id).isPresent();
  }

  private Optional<JsonNode> deadLetter(String taskId) {
    return deadLetters().stream()
        .filter(d -> taskId.equals(d.get("taskId").asString(null)))
        .findFirst();
  }

  List<JsonNode> deadLetters() {
    try {
      HttpResponse<String> r = producer.get("/dead-letters?queue=" + queue + "&limit=500");
      if (r.statusCode() != 200) {
        return List.of();
      }
      List<JsonNode> all = new ArrayList<>();
      Json.MAPPER.readTree(r.body()).get("deadLetters").forEach(all::add);
      return all;
    } catch (IOException e) {
      return List.of();
    }
  }

  /**
   * The probes as the table's counts: refused at the door, or taken in (202, or published to the
   * queue) and then run as data or dead-lettered.
   */
  Counts counts() {
    List<Probe> judged = probes;
    int refused =
        (int) judged.stream().filter(p -> p.id == null && !p.door.contains("AMQP")).count();
    int takenIn = judged.size() - refused;
    int completed = (int) judged.stream().filter(p -> p.expect == Expect.DATA && p.ok).count();
    int dead =
        (int)
            judged.stream()
                .filter(
                    p ->
                        p.expect == Expect.DEAD_LETTER
                            && p.ok
                            && (p.id != null || p.door.contains("AMQP")))
                .count();
    return new Counts(
        judged.size(),
        takenIn,
        refused,
        completed,
        dead,
        takenIn - completed - dead,
        0,
        0,
        0,
        Map.of());
  }

  boolean canaryExists() {
    return Files.exists(canary);
  }

  private String task(String name, String fields) {
    return "{\"task\": "
        + name
        + ", \"queue\": \""
        + queue
        + "\""
        + (fields == null ? "" : ", " + fields)
        + "}";
  }

  private HttpResponse<String> json(String body) throws IOException {
    return post("/tasks", "application/json", HttpRequest.BodyPublishers.ofString(body));
  }

  private HttpResponse<String> post(String path, String type, HttpRequest.BodyPublisher body)
      throws IOException {
    return httpSend(request(path).header("Content-Type", type).POST(body).build());
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://localhost:" + producer.port() + path))
        .timeout(Duration.ofSeconds(30));
  }

  private static HttpResponse<String> httpSend(HttpRequest request) throws IOException {
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private static byte[] javaSerialized() {
    try (ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(new HashMap<>(Map.of("task", "demo.echo")));
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String detail(String body) {
    try {
      return Json.MAPPER.readTree(body).path("detail").asString("");
    } catch (RuntimeException e) {
      return "";
    }
  }

  private static String shorten(String text) {
    String one = text.replace("\r", "\\r").replace("\n", "\\n");
    return one.length() > 120 ? one.substring(0, 117) + "…" : one;
  }
}
