package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import tools.jackson.databind.JsonNode;

/** {@code /limits} on a producer over the in-memory broker. */
class LimitsControllerTest {
  private static final HttpClient http = HttpClient.newHttpClient();
  @RegisterExtension static final InMemoryProducer producer = new InMemoryProducer();

  @Test
  void aPutCreatesThenReplacesKeepsWhatItLeavesOutAndADeleteRemoves() throws Exception {
    HttpResponse<String> created = send("PUT", "/limits/demo.mul", "{\"rate\": \"10/m\"}");
    assertEquals(201, created.statusCode(), created.body());
    assertEquals("10/m", json(created).path("rate").asString());
    assertEquals("worker", json(created).path("scope").asString());

    HttpResponse<String> replaced = send("PUT", "/limits/demo.mul", "{\"scope\": \"worker\"}");
    assertEquals(200, replaced.statusCode(), replaced.body());
    assertEquals("10/m", json(replaced).path("rate").asString(), "kept");

    HttpResponse<String> list = send("GET", "/limits", null);
    assertEquals(200, list.statusCode());
    assertTrue(list.body().contains("\"demo.mul\""), list.body());
    assertEquals("10/m", json(send("GET", "/limits/demo.mul", null)).path("rate").asString());

    HttpResponse<String> removed = send("PUT", "/limits/demo.mul", "{\"rate\": null}");
    assertTrue(json(removed).path("rate").isNull(), removed.body());

    assertEquals(204, send("DELETE", "/limits/demo.mul", null).statusCode());
    assertEquals(404, send("GET", "/limits/demo.mul", null).statusCode());
    assertEquals(404, send("DELETE", "/limits/demo.mul", null).statusCode());
  }

  @Test
  void aGlobalRateIsShownWithItsUseTheTokensReadyAndTheWorkersSharingIt() throws Exception {
    HttpResponse<String> created =
        send("PUT", "/limits/demo.sms", "{\"rate\": \"50/s\", \"scope\": \"global\"}");
    assertEquals(201, created.statusCode(), created.body());
    assertEquals("global", json(created).path("scope").asString());

    JsonNode shown = json(send("GET", "/limits/demo.sms", null));
    assertEquals("50/s", shown.path("rate").asString());
    assertEquals(0, shown.path("use").path("tokensReady").asInt(-1), shown.toString());
    assertEquals(0, shown.path("use").path("workers").asInt(-1), "no worker runs it here");
    assertEquals(204, send("DELETE", "/limits/demo.sms", null).statusCode());
  }

  @Test
  void aConcurrencyPerTaskIsSetWithItsPermitsInUseAndPerKeyWithItsKey() throws Exception {
    HttpResponse<String> perTask = send("PUT", "/limits/demo.report", "{\"concurrency\": 2}");
    assertEquals(201, perTask.statusCode(), perTask.body());
    JsonNode shown = json(send("GET", "/limits/demo.report", null));
    assertEquals(2, shown.path("concurrency").asInt());
    assertTrue(shown.path("concurrencyKey").isNull(), shown.toString());
    assertEquals(0, shown.path("use").path("permitsInUse").asInt(-1), shown.toString());

    HttpResponse<String> perKey =
        send("PUT", "/limits/demo.report", "{\"concurrencyKey\": \"customer_id\"}");
    assertEquals(200, perKey.statusCode(), perKey.body());
    assertEquals("customer_id", json(perKey).path("concurrencyKey").asString());
    assertEquals(2, json(perKey).path("concurrency").asInt(), "kept");
    assertEquals(204, send("DELETE", "/limits/demo.report", null).statusCode());
  }

  @Test
  void aBadRateAScopeWithoutARateAndAConcurrencyAreProblemsPointingAtTheirField() throws Exception {
    assertProblem(send("PUT", "/limits/demo.x", "{\"rate\": \"fast\"}"), "/rate");
    assertProblem(send("PUT", "/limits/demo.x", "{\"scope\": \"global\"}"), "/scope");
    assertProblem(send("PUT", "/limits/demo.x", "{\"concurrency\": -2}"), "/concurrency");
    assertProblem(
        send("PUT", "/limits/demo.x", "{\"concurrencyKey\": \"customer_id\"}"), "/concurrencyKey");
    HttpResponse<String> notJson = send("PUT", "/limits/demo.x", "{rate");
    assertEquals(400, notJson.statusCode());
    assertEquals(404, send("GET", "/limits/demo.x", null).statusCode(), "nothing was put");
  }

  private static void assertProblem(HttpResponse<String> response, String pointer) {
    assertEquals(400, response.statusCode(), response.body());
    assertTrue(
        response.headers().firstValue("Content-Type").orElse("").contains("problem+json"),
        response.headers().toString());
    assertEquals(pointer, json(response).path("pointer").asString(), response.body());
  }

  private static JsonNode json(HttpResponse<String> response) {
    return Json.MAPPER.readTree(response.body());
  }

  private static HttpResponse<String> send(String method, String path, String body)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(producer.uri(path))
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
