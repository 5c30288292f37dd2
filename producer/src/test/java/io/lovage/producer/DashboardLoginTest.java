package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The dashboard on a producer with an API key: the login form, its session cookie. */
class DashboardLoginTest {
  private static final String KEY = "dash-s3cret";
  private static final HttpClient http = HttpClient.newHttpClient(); // follows no redirects

  @RegisterExtension
  static final InMemoryProducer producer = new InMemoryProducer(Map.of("lovage.api.key", KEY));

  @Test
  void withoutASessionEveryPageSendsTheBrowserToTheLoginFormAndShowsNoData() throws Exception {
    for (String path : new String[] {"/ui", "/ui/tasks?state=FAILURE", "/ui/dead-letters"}) {
      HttpResponse<String> page = send(get(path));
      assertEquals(303, page.statusCode(), path);
      String location = page.headers().firstValue("Location").orElseThrow();
      assertTrue(location.startsWith("/ui/login?next="), location);
    }
    HttpResponse<String> form = send(get("/ui/login"));
    assertEquals(200, form.statusCode());
    assertTrue(form.body().contains("type=\"password\" name=\"key\""), form.body());
    assertEquals(200, send(get("/ui/assets/dashboard.css")).statusCode(), "assets stay open");
  }

  @Test
  void theRightKeyOpensASessionCookieThatIsHttpOnlyAndStrictAndHoldsNotTheKey() throws Exception {
    HttpResponse<String> wrong = send(login("nope", "/ui/tasks"));
    assertEquals(401, wrong.statusCode());
    assertTrue(wrong.body().contains("not accepted"), wrong.body());

    HttpResponse<String> right = send(login(KEY, "/ui/tasks?state=FAILURE"));
    assertEquals(303, right.statusCode(), right.body());
    assertEquals("/ui/tasks?state=FAILURE", right.headers().firstValue("Location").orElseThrow());
    String cookie = right.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(cookie.startsWith(DashboardSessions.COOKIE + "="), cookie);
    assertTrue(cookie.toLowerCase().contains("httponly"), cookie);
    assertTrue(cookie.toLowerCase().contains("samesite=strict"), cookie);
    assertFalse(cookie.contains(KEY), cookie);

    String session = cookie.substring(0, cookie.indexOf(';'));
    HttpResponse<String> page =
        send(HttpRequest.newBuilder(uri("/ui/tasks")).header("Cookie", session).build());
    assertEquals(200, page.statusCode(), page.body());
    assertTrue(page.body().contains("<h1>Tasks</h1>"), page.body());
    assertEquals(
        401,
        send(HttpRequest.newBuilder(uri("/tasks")).header("Cookie", session).build()).statusCode(),
        "the session opens the dashboard only, not the REST API");
    for (String around :
        new String[] {"/ui/../tasks", "/ui/%2e%2e/tasks", "/ui/tasks/../../tasks"}) {
      int status =
          send(HttpRequest.newBuilder(uri(around)).header("Cookie", session).build()).statusCode();
      assertTrue(status == 401 || status == 404, around + " answered " + status);
    }
  }

  @Test
  void theLoginFormSendsTheBrowserOnlyToDashboardPagesOfThisSite() throws Exception {
    HttpResponse<String> away = send(login(KEY, "https://evil.example/"));
    assertEquals("/ui", away.headers().firstValue("Location").orElseThrow());
    HttpResponse<String> protocolRelative = send(login(KEY, "//evil.example/ui"));
    assertEquals("/ui", protocolRelative.headers().firstValue("Location").orElseThrow());
  }

  private static HttpRequest login(String key, String next) {
    return HttpRequest.newBuilder(uri("/ui/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(
            HttpRequest.BodyPublishers.ofString(
                "key=" + Html.query(key) + "&next=" + Html.query(next)))
        .build();
  }

  private static HttpRequest get(String path) {
    return HttpRequest.newBuilder(uri(path)).build();
  }

  private static URI uri(String path) {
    return producer.uri(path);
  }

  private static HttpResponse<String> send(HttpRequest request) throws Exception {
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
