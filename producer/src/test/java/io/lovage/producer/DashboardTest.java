package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.result.EventStreamResultStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The dashboard's pages on a producer over the in-memory broker, without API keys. */
class DashboardTest {
  private static final HttpClient http = HttpClient.newHttpClient();
  @RegisterExtension static final InMemoryProducer producer = new InMemoryProducer();

  private static void event(String json) {
    producer
        .server()
        .getApplicationContext()
        .getBean(EventStreamResultStore.class)
        .apply(Json.MAPPER.readTree(json));
  }

  @Test
  void aTaskWhoseNameErrorAndTracebackHoldMarkupIsShownEscapedOnItsPageAndInTheList()
      throws Exception {
    long now = System.currentTimeMillis() / 1000;
    event(
        "{\"type\": \"task-sent\", \"uuid\": \"xss-1\", \"name\": \"<script>alert(1)</script>\","
            + " \"queue\": \"celery\", \"timestamp\": "
            + now
            + "}");
    event(
        "{\"type\": \"task-failed\", \"uuid\": \"xss-1\", \"hostname\": \"w<i>1\","
            + " \"exc_type\": \"Boom\", \"exc_message\": \"<img src=x onerror=alert(2)>\","
            + " \"traceback\": \"Traceback: <script>alert(3)</script>\", \"timestamp\": "
            + now
            + "}");

    HttpResponse<String> page = get("/ui/tasks/xss-1");
    assertEquals(200, page.statusCode(), page.body());
    assertFalse(page.body().contains("<script>alert"), page.body());
    assertFalse(page.body().contains("<img src=x"), page.body());
    assertTrue(page.body().contains("&lt;script&gt;alert(1)&lt;/script&gt;"), page.body());
    assertTrue(page.body().contains("Traceback: &lt;script&gt;alert(3)&lt;/script&gt;"));
    assertTrue(page.body().contains("✗</span> FAILURE"), "the state as a symbol and its name");

    HttpResponse<String> list = get("/ui/tasks?state=FAILURE");
    assertTrue(list.body().contains("href=\"/ui/tasks/xss-1\""), list.body());
    assertFalse(list.body().contains("<script>alert"), list.body());
  }

  @Test
  void theTaskListFiltersByStateTaskAndQueueFromItsQueryParameters() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    event(
        "{\"type\": \"task-sent\", \"uuid\": \"f-1\", \"name\": \"demo.add\", \"queue\": \"q1\","
            + " \"timestamp\": "
            + now
            + "}");
    event(
        "{\"type\": \"task-sent\", \"uuid\": \"f-2\", \"name\": \"demo.mul\", \"queue\": \"q2\","
            + " \"timestamp\": "
            + now
            + "}");

    String byQueue = get("/ui/tasks?queue=q1").body();
    assertTrue(byQueue.contains("/ui/tasks/f-1"), byQueue);
    assertFalse(byQueue.contains("/ui/tasks/f-2"), byQueue);
    String byTask = get("/ui/tasks?task=demo.mul&state=PENDING").body();
    assertTrue(byTask.contains("/ui/tasks/f-2"), byTask);
    assertFalse(byTask.contains("/ui/tasks/f-1"), byTask);
    assertTrue(get("/ui/tasks?state=SUCCESS&queue=q1").body().contains("No tasks match"));
  }

  @Test
  void pagesComeWithAPolicyThatAllowsOnlyTheirOwnScriptsAndTheAssetsAreServedFromTheJar()
      throws Exception {
    HttpResponse<String> overview = get("/ui");
    assertEquals(200, overview.statusCode(), overview.body());
    assertTrue(
        overview.headers().firstValue("Content-Security-Policy").orElse("").contains("'self'"));
    assertTrue(overview.body().contains("Tasks by state"), overview.body());
    HttpResponse<String> asBrowserAsks =
        http.send(
            HttpRequest.newBuilder(uri("/ui/tasks")).header("Accept", "text/html").build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, asBrowserAsks.statusCode(), "the live refresh asks for text/html");
    assertEquals(200, get("/ui/assets/dashboard.js").statusCode());
    assertEquals(200, get("/ui/assets/dashboard.css").statusCode());
    assertEquals(404, get("/ui/assets/other.js").statusCode());
  }

  @Test
  void theWorkersAndQueuesPagesAnswerWithoutWorkersOrAManagementApi() throws Exception {
    HttpResponse<String> workers = get("/ui/workers");
    assertEquals(200, workers.statusCode(), workers.body());
    assertTrue(workers.body().contains("No worker has sent a heartbeat lately"), workers.body());
    assertTrue(workers.body().contains("data-period=\"5000\""), "refreshed less often");
    HttpResponse<String> queues = get("/ui/queues");
    assertEquals(200, queues.statusCode(), queues.body());
    assertTrue(queues.body().contains("<h1>Queues</h1>"), queues.body());
  }

  @Test
  void anUnknownTaskIsA404PageAndAFormPostedFromAnotherSiteIsRefused() throws Exception {
    assertEquals(404, get("/ui/tasks/no-such-task").statusCode());
    HttpResponse<String> forged =
        http.send(
            HttpRequest.newBuilder(uri("/ui/dead-letters/celery:0/delete"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", "https://evil.example")
                .POST(HttpRequest.BodyPublishers.ofString("queue=celery"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(403, forged.statusCode(), forged.body());
    HttpResponse<String> garbled =
        http.send(
            HttpRequest.newBuilder(uri("/ui/dead-letters/celery:0/delete"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", "http://bad host^")
                .POST(HttpRequest.BodyPublishers.ofString("queue=celery"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(403, garbled.statusCode(), "an Origin that is no URI is refused, not a 500");
  }

  @Test
  void revokingFromTheTaskPageWithoutTheTerminateBoxSendsTheRevocation() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    event(
        "{\"type\": \"task-sent\", \"uuid\": \"rv-1\", \"name\": \"demo.noop\","
            + " \"queue\": \"celery\", \"timestamp\": "
            + now
            + "}");
    HttpResponse<String> revoked =
        http.send(
            HttpRequest.newBuilder(uri("/ui/tasks/rv-1/revoke"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(303, revoked.statusCode(), revoked.body());
    assertEquals(
        "/ui/tasks/rv-1?notice=revoked", revoked.headers().firstValue("Location").orElseThrow());
  }

  static URI uri(String path) {
    return producer.uri(path);
  }

  static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
