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
import tools.jackson.databind.JsonNode;

/**
 * The dashboard's task arguments, resubmit, workflow page and time filter, on a producer over the
 * in-memory broker, without API keys.
 */
class DashboardTasksTest {
  private static final HttpClient http = HttpClient.newHttpClient();
  @RegisterExtension static final InMemoryProducer producer = new InMemoryProducer();

  @Test
  void aTaskSentWithArgumentsShowsThemOnItsPageAndInItsJson() throws Exception {
    String id =
        submit("{\"task\": \"demo.add\", \"args\": [2, 3], \"kwargs\": {\"note\": \"<b>hi\"}}");

    String page = get("/ui/tasks/" + id).body();
    assertTrue(page.contains("<h2>Arguments</h2>"), page);
    assertTrue(page.contains("&lt;b&gt;hi"), "escaped: " + page);
    JsonNode json = Json.MAPPER.readTree(get("/tasks/" + id).body());
    assertEquals(Json.MAPPER.readTree("[2, 3]"), json.get("args"));
    assertEquals("<b>hi", json.get("kwargs").get("note").asString());
    assertFalse(json.get("argumentsTruncated").asBoolean());
  }

  @Test
  void resubmittingAFailedTaskSendsANewTaskWithTheSameNameArgumentsAndQueue() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    event(
        "{\"type\": \"task-sent\", \"uuid\": \"rs-1\", \"name\": \"demo.fail\", \"queue\": \"q7\","
            + " \"args\": \"['x']\", \"args_json\": \"[\\\"x\\\"]\", \"kwargs_json\": \"{}\","
            + " \"timestamp\": "
            + now
            + "}");
    event(
        "{\"type\": \"task-failed\", \"uuid\": \"rs-1\", \"exc_type\": \"DemoFailure\","
            + " \"exc_message\": \"x\", \"timestamp\": "
            + now
            + "}");
    assertTrue(get("/ui/tasks/rs-1").body().contains(">Resubmit</button>"));

    HttpResponse<String> resubmitted = post("/ui/tasks/rs-1/resubmit");

    assertEquals(303, resubmitted.statusCode(), resubmitted.body());
    String location = resubmitted.headers().firstValue("Location").orElseThrow();
    assertTrue(location.endsWith("?notice=resubmitted"), location);
    String newId = location.substring("/ui/tasks/".length(), location.indexOf('?'));
    assertFalse(newId.equals("rs-1"), "a new task, with a new id");
    JsonNode again = Json.MAPPER.readTree(get("/tasks/" + newId).body());
    assertEquals("demo.fail", again.get("task").asString());
    assertEquals("q7", again.get("queue").asString());
    assertEquals(Json.MAPPER.readTree("[\"x\"]"), again.get("args"));
  }

  @Test
  void resubmittingATaskWhoseArgumentsWereCutIsRefusedAndSaysWhy() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    event(
        "{\"type\": \"task-sent\", \"uuid\": \"rs-2\", \"name\": \"demo.echo\", \"queue\": \"q7\","
            + " \"args_json\": \"[\\\"aaaa\", \"kwargs_json\": \"{}\", \"args_truncated\": true,"
            + " \"timestamp\": "
            + now
            + "}");
    event("{\"type\": \"task-succeeded\", \"uuid\": \"rs-2\", \"timestamp\": " + now + "}");
    String page = get("/ui/tasks/rs-2").body();
    assertTrue(page.contains("Truncated"), page);
    assertTrue(page.replace("&quot;", "\"").contains(">[\"aaaa</pre>"), page);

    HttpResponse<String> refused = post("/ui/tasks/rs-2/resubmit");

    assertEquals(409, refused.statusCode(), refused.body());
    assertTrue(refused.body().contains("only their start is kept"), refused.body());
  }

  @Test
  void resubmittingATaskThatHasNotFinishedIsRefused() throws Exception {
    String id = submit("{\"task\": \"demo.noop\", \"queue\": \"q8\"}");

    assertEquals(409, post("/ui/tasks/" + id + "/resubmit").statusCode());
  }

  @Test
  void aWorkflowsPageShowsItsTreeWithEachTaskLinkedAndItsTasksLinkBackToIt() throws Exception {
    HttpResponse<String> sent =
        http.send(
            HttpRequest.newBuilder(uri("/workflows"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"chain\": [{\"task\": \"demo.add\", \"args\": [1, 2]},"
                            + " {\"group\": [{\"task\": \"demo.echo\"}, {\"task\": \"demo.noop\"}]}]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(202, sent.statusCode(), sent.body());
    JsonNode workflow = Json.MAPPER.readTree(sent.body());
    String id = workflow.get("id").asString();
    String first = workflow.get("tasks").get(0).get("id").asString();
    String member = workflow.get("tasks").get(1).get("tasks").get(1).get("id").asString();

    HttpResponse<String> page = get("/ui/workflows/" + id);

    assertEquals(200, page.statusCode(), page.body());
    assertTrue(page.body().contains("href=\"/ui/tasks/" + first + "\">demo.add</a>"), page.body());
    assertTrue(page.body().contains("href=\"/ui/tasks/" + member + "\">demo.noop</a>"));
    assertTrue(page.body().contains("<ol>"), "a chain's steps in order: " + page.body());
    assertTrue(page.body().contains("◷</span> PENDING"), "states as symbol and name");
    assertTrue(get("/ui/tasks/" + first).body().contains("href=\"/ui/workflows/" + id + "\""));
    assertTrue(get("/ui/tasks?task=demo.add").body().contains("href=\"/ui/workflows/" + id + "\""));
    assertEquals(404, get("/ui/workflows/no-such-workflow").statusCode());
  }

  @Test
  void aTaskPageLinksItsParentItsRootAndTheTasksItSent() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    for (String[] t : new String[][] {{"pr-1", null}, {"pr-2", "pr-1"}, {"pr-3", "pr-2"}}) {
      event(
          "{\"type\": \"task-sent\", \"uuid\": \""
              + t[0]
              + "\", \"name\": \"demo.add\", \"root_id\": \"pr-1\", \"parent_id\": "
              + (t[1] == null ? "null" : "\"" + t[1] + "\"")
              + ", \"timestamp\": "
              + now
              + "}");
    }

    String last = get("/ui/tasks/pr-3").body();
    assertTrue(last.contains("<dt>Parent</dt><dd><a class=\"id\" href=\"/ui/tasks/pr-2\""), last);
    assertTrue(last.contains("<dt>Root</dt><dd><a class=\"id\" href=\"/ui/tasks/pr-1\""), last);
    String first = get("/ui/tasks/pr-1").body();
    assertFalse(first.contains("<dt>Parent</dt>"), "the root has no parent");
    assertTrue(first.contains("<dt>Children</dt>"), first);
    assertTrue(first.contains("href=\"/ui/tasks/pr-2\">demo.add</a>"), first);
  }

  @Test
  void theTimeRangeFilterHidesTasksSentBeforeItAndCombinesWithTheOtherFilters() throws Exception {
    long now = System.currentTimeMillis() / 1000;
    event(
        "{\"type\": \"task-sent\", \"uuid\": \"tr-old\", \"name\": \"demo.range\","
            + " \"queue\": \"celery\", \"timestamp\": "
            + (now - 7200)
            + "}");
    event(
        "{\"type\": \"task-sent\", \"uuid\": \"tr-new\", \"name\": \"demo.range\","
            + " \"queue\": \"celery\", \"timestamp\": "
            + now
            + "}");

    String lastHour = get("/ui/tasks?task=demo.range&since=1h").body();
    assertTrue(lastHour.contains("/ui/tasks/tr-new"), lastHour);
    assertFalse(lastHour.contains("/ui/tasks/tr-old"), lastHour);
    assertTrue(lastHour.contains("<option value=\"1h\" selected>"), "the select shows the range");
    String anyTime = get("/ui/tasks?task=demo.range").body();
    assertTrue(anyTime.contains("/ui/tasks/tr-old") && anyTime.contains("/ui/tasks/tr-new"));
    String sinceInstant =
        get("/ui/tasks?task=demo.range&since=" + java.time.Instant.ofEpochSecond(now - 60)).body();
    assertFalse(sinceInstant.contains("/ui/tasks/tr-old"), sinceInstant);
    assertTrue(sinceInstant.contains("/ui/tasks/tr-new"), sinceInstant);
    String garbled = get("/ui/tasks?task=demo.range&since=yesterday").body();
    assertTrue(garbled.contains("Unknown time range"), garbled);
    assertTrue(garbled.contains("/ui/tasks/tr-old"), "an unknown range filters nothing");
  }

  private static void event(String json) {
    producer
        .server()
        .getApplicationContext()
        .getBean(EventStreamResultStore.class)
        .apply(Json.MAPPER.readTree(json));
  }

  private static String submit(String json) throws Exception {
    HttpResponse<String> sent =
        http.send(
            HttpRequest.newBuilder(uri("/tasks"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(202, sent.statusCode(), sent.body());
    return Json.MAPPER.readTree(sent.body()).get("id").asString();
  }

  private static HttpResponse<String> post(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Sec-Fetch-Site", "same-origin")
            .POST(HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static URI uri(String path) {
    return producer.uri(path);
  }

  static HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
