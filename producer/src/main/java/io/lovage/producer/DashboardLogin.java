package io.lovage.producer;

import static io.lovage.producer.Html.esc;
import static io.lovage.producer.Html.query;

import io.lovage.service.WithoutApiKey;
import io.lovage.service.openapi.Undocumented;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.cookie.Cookie;
import io.micronaut.http.cookie.SameSite;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The dashboard's login form, for a producer with API keys: the key typed in is checked as a bearer
 * key would be and kept in memory behind a session cookie (HttpOnly, SameSite=Strict), never in a
 * URL. Without API keys set, the dashboard is open and the form only says so.
 */
@Controller("/ui")
@Produces(MediaType.TEXT_HTML)
@Undocumented
@WithoutApiKey
final class DashboardLogin {
  private final DashboardSessions sessions;
  private final @Nullable ApiKeyFilter keys;

  DashboardLogin(DashboardSessions sessions, @Nullable ApiKeyFilter keys) {
    this.sessions = sessions;
    this.keys = keys;
  }

  /** Where a browser without a session is sent: the login form, then back where it was going. */
  static MutableHttpResponse<?> redirectToLogin(HttpRequest<?> request) {
    String back =
        request.getMethod() == io.micronaut.http.HttpMethod.GET
            ? request.getUri().toString()
            : "/ui";
    return HttpResponse.seeOther(URI.create("/ui/login?next=" + query(back)));
  }

  @Get("/login")
  MutableHttpResponse<String> form(@QueryValue(defaultValue = "/ui") String next) {
    return page(HttpStatus.OK, next, null);
  }

  @Post(value = "/login", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> login(HttpRequest<?> request, @Nullable @Body byte[] body) {
    Map<String, String> form = form(body);
    String next = safeNext(form.getOrDefault("next", "/ui"));
    if (!DashboardController.sameOrigin(request)) {
      return page(HttpStatus.FORBIDDEN, next, "This form was sent from another site.");
    }
    if (keys == null) {
      return HttpResponse.<String>seeOther(URI.create(next));
    }
    String key = form.getOrDefault("key", "").strip();
    if (key.isEmpty() || keys.match(key).isEmpty()) {
      return page(HttpStatus.UNAUTHORIZED, next, "That key is not accepted.");
    }
    Cookie cookie =
        Cookie.of(DashboardSessions.COOKIE, sessions.start(key))
            .path("/ui")
            .httpOnly(true)
            .secure(request.isSecure())
            .sameSite(SameSite.Strict);
    return HttpResponse.<String>seeOther(URI.create(next)).cookie(cookie);
  }

  @Post(value = "/logout", consumes = MediaType.APPLICATION_FORM_URLENCODED)
  MutableHttpResponse<String> logout(HttpRequest<?> request) {
    request
        .getCookies()
        .findCookie(DashboardSessions.COOKIE)
        .ifPresent(c -> sessions.end(c.getValue()));
    return HttpResponse.<String>seeOther(URI.create("/ui/login"))
        .cookie(Cookie.of(DashboardSessions.COOKIE, "").path("/ui").maxAge(0));
  }

  private MutableHttpResponse<String> page(HttpStatus status, String next, String error) {
    String body =
        keys == null
            ? "<p>This producer has no API keys set: the dashboard is open. <a href=\"/ui\">Go"
                + " to the overview</a>.</p>\n"
            : DashboardPage.notice(error, true)
                + "<form method=\"post\" action=\"/ui/login\" class=\"login\">\n"
                + "<p>This producer needs an API key (LOVAGE_API_KEY or a key of"
                + " LOVAGE_API_KEYS_FILE). It is kept for this browser session only.</p>\n"
                + "<label>API key <input type=\"password\" name=\"key\" autocomplete=\"off\""
                + " required autofocus></label>\n"
                + "<input type=\"hidden\" name=\"next\" value=\""
                + esc(safeNext(next))
                + "\">\n<button>Sign in</button>\n</form>\n";
    return DashboardController.html(status, DashboardPage.render("Sign in", "", body, false));
  }

  /** Only a dashboard path of this site, so the form cannot send a browser elsewhere. */
  static String safeNext(String next) {
    return next != null && DashboardController.isDashboard(next) && !next.startsWith("//")
        ? next
        : "/ui";
  }

  static Map<String, String> form(@Nullable byte[] body) {
    Map<String, String> form = new HashMap<>();
    if (body == null) {
      return form;
    }
    for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        form.put(
            URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return form;
  }
}
