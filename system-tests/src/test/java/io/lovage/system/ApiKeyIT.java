package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * LOVAGE_API_KEY and LOVAGE_API_KEYS_FILE: everything but /health and the API's documentation needs
 * a bearer key with the route's scope.
 */
class ApiKeyIT {

  @Test
  void withAnApiKeySetRequestsWithoutTheRightBearerKeyAre401AndHealthAndDocsStayOpen()
      throws IOException {
    String queue = RabbitFixture.uniqueQueue("apikey");
    String task = "{\"task\": \"demo.noop\", \"queue\": \"" + queue + "\"}";
    try (AppProcess producer = AppProcess.producer(Map.of("LOVAGE_API_KEY", "s3cret-key"))) {
      assertEquals(200, producer.get("/health").statusCode());
      assertEquals(200, producer.get("/openapi.yml").statusCode());
      assertEquals(200, producer.get("/docs").statusCode());

      var none = producer.post("/tasks", task, Map.of("Content-Type", "application/json"));
      var wrong =
          producer.post(
              "/tasks",
              task,
              Map.of("Content-Type", "application/json", "Authorization", "Bearer nope"));
      var right =
          producer.post(
              "/tasks",
              task,
              Map.of("Content-Type", "application/json", "Authorization", "Bearer s3cret-key"));

      assertEquals(401, none.statusCode());
      assertEquals(
          "application/problem+json", none.headers().firstValue("Content-Type").orElseThrow());
      assertEquals(401, wrong.statusCode());
      assertEquals(202, right.statusCode(), right.body());
      assertEquals(401, producer.get("/tasks").statusCode());
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void scopedKeysFromAKeyFileGet401403Or2xxAsTheirScopesSayAndANewKeyWorksWithoutARestart()
      throws Exception {
    String queue = RabbitFixture.uniqueQueue("scopes");
    String task = "{\"task\": \"demo.noop\", \"queue\": \"" + queue + "\"}";
    Path keys = Files.createTempFile(Path.of("target"), "api-keys-", ".txt");
    Files.writeString(
        keys,
        "# test keys\n"
            + line("submit-key", "submit", "submitter")
            + line("read-key", "read", "reader")
            + line("admin-key", "admin,read", "operator"));
    try (AppProcess producer =
        AppProcess.producer(Map.of("LOVAGE_API_KEYS_FILE", keys.toString()))) {
      assertEquals(202, submit(producer, task, "submit-key").statusCode());
      assertEquals(403, submit(producer, task, "read-key").statusCode());
      assertEquals(401, submit(producer, task, "unknown-key").statusCode());
      assertEquals(200, get(producer, "/tasks", "read-key").statusCode());
      HttpResponse<String> denied = get(producer, "/tasks", "submit-key");
      assertEquals(403, denied.statusCode());
      assertEquals(
          "application/problem+json", denied.headers().firstValue("Content-Type").orElseThrow());
      assertTrue(denied.body().contains("'read'"), denied.body());
      String limit = "{\"rate\": \"100/s\"}";
      assertEquals(403, put(producer, "/limits/demo.noop", limit, "read-key").statusCode());
      int set = put(producer, "/limits/demo.noop", limit, "admin-key").statusCode();
      assertTrue(set == 200 || set == 201, "created or replaced: " + set);
      assertEquals(204, delete(producer, "/limits/demo.noop", "admin-key").statusCode());
      Await.until(
          Duration.ofSeconds(10),
          "the admin request logged with the key's name",
          () -> logOf(producer).contains("admin request PUT /limits/demo.noop by key 'operator'"));
      assertFalse(logOf(producer).contains("admin-key"), "no key in the log");

      Files.writeString(keys, line("rotated-key", "read", "reader-2"));
      Await.until(
          Duration.ofSeconds(10),
          "the rotated key accepted",
          () -> get(producer, "/tasks", "rotated-key").statusCode() == 200);
      assertEquals(401, get(producer, "/tasks", "read-key").statusCode(), "the old key is gone");
    } finally {
      Files.deleteIfExists(keys);
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @Test
  void aBrowserOnAnotherOriginGetsNoCorsPermission() throws IOException {
    try (AppProcess producer = AppProcess.producer()) {
      HttpResponse<String> preflight =
          producer.send(
              HttpRequest.newBuilder(producer.uri("/tasks"))
                  .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                  .header("Origin", "https://evil.example")
                  .header("Access-Control-Request-Method", "POST")
                  .build());

      assertTrue(
          preflight.headers().firstValue("Access-Control-Allow-Origin").isEmpty(),
          preflight.headers().toString());
    }
  }

  private static String logOf(AppProcess producer) {
    try {
      return Files.readString(producer.log());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String line(String key, String scopes, String name) {
    return HexFormat.of().formatHex(sha256(key)) + " " + scopes + " " + name + "\n";
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static HttpResponse<String> submit(AppProcess producer, String task, String key)
      throws IOException {
    return producer.post(
        "/tasks",
        task,
        Map.of("Content-Type", "application/json", "Authorization", "Bearer " + key));
  }

  private static HttpResponse<String> get(AppProcess producer, String path, String key) {
    return send(producer, HttpRequest.newBuilder(producer.uri(path)).GET(), key);
  }

  private static HttpResponse<String> put(
      AppProcess producer, String path, String body, String key) {
    return send(
        producer,
        HttpRequest.newBuilder(producer.uri(path))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(body)),
        key);
  }

  private static HttpResponse<String> delete(AppProcess producer, String path, String key) {
    return send(producer, HttpRequest.newBuilder(producer.uri(path)).DELETE(), key);
  }

  private static HttpResponse<String> send(
      AppProcess producer, HttpRequest.Builder request, String key) {
    try {
      return producer.send(request.header("Authorization", "Bearer " + key).build());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
