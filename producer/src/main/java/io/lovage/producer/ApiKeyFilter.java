package io.lovage.producer;

import io.lovage.service.ApiKeyCheck;
import io.lovage.service.Problem;
import io.lovage.service.WithoutApiKey;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.condition.Condition;
import io.micronaut.context.condition.ConditionContext;
import io.micronaut.core.annotation.AnnotationMetadata;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.web.router.RouteAttributes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When {@code LOVAGE_API_KEY} or {@code LOVAGE_API_KEYS_FILE} is set, every endpoint but those
 * marked {@link WithoutApiKey} ({@code /health}, the OpenAPI document and its UI) needs {@code
 * Authorization: Bearer <key>}: no key or an unknown one is a 401 problem, a key without the
 * route's {@link ApiScope} a 403. The dashboard ({@code /ui}) takes the key from its sign-in
 * session instead ({@link DashboardSessions}) and sends a browser without one to its login form.
 * Keys are compared as SHA-256 hashes in constant time; admin requests are logged with the key's
 * name, never the key. The key file is read again when it changes, so a key is added or removed
 * without a restart. Serve the producer with TLS (its own or a reverse proxy's) so keys are not
 * sent in clear.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
@Requires(condition = ApiKeyFilter.Configured.class)
final class ApiKeyFilter implements ApiKeyCheck {
  private static final Logger log = LoggerFactory.getLogger(ApiKeyFilter.class);
  private static final String BEARER = "Bearer ";

  /** How often, at most, the key file's modification time is checked. */
  private static final long RECHECK_NANOS = 1_000_000_000L;

  private final DashboardSessions sessions;
  private final @Nullable String single;
  private final @Nullable Path file;
  private volatile ApiKeys keys;
  private volatile FileTime readAt;
  private volatile long checkedAt;

  ApiKeyFilter(
      @Value("${lovage.api.key:}") String single,
      @Value("${lovage.api.keys.file:}") String file,
      DashboardSessions sessions) {
    this.sessions = sessions;
    this.single = single.isBlank() ? null : single;
    this.file = file.isBlank() ? null : Path.of(file.strip());
    this.keys = read();
    log.info(
        "API keys required: {} key(s){}",
        keys.keys().size(),
        this.file == null ? "" : " from " + this.file);
  }

  /** Set when {@code lovage.api.key} or {@code lovage.api.keys.file} is. */
  static final class Configured implements Condition {
    @Override
    public boolean matches(ConditionContext context) {
      return context.containsProperty("lovage.api.key")
          || context.containsProperty("lovage.api.keys.file");
    }
  }

  @Override
  public String description() {
    return "one of the keys set in LOVAGE_API_KEY or LOVAGE_API_KEYS_FILE, with the scope the"
        + " operation needs: `read` for GET, `submit` to submit tasks and workflows, `admin` for"
        + " the rest";
  }

  @RequestFilter
  @Nullable
  HttpResponse<?> authenticate(HttpRequest<?> request) {
    // The route is matched before this filter runs; a path with no route has no route info.
    AnnotationMetadata route =
        RouteAttributes.getRouteInfo(request)
            .map(r -> r.getAnnotationMetadata())
            .orElse(AnnotationMetadata.EMPTY_METADATA);
    if (route.hasAnnotation(WithoutApiKey.class)) {
      return null;
    }
    String header = request.getHeaders().get("Authorization");
    // Decided by the route matched, not by the path's text: a session opens dashboard routes only.
    boolean dashboard =
        RouteAttributes.getRouteInfo(request)
            .map(r -> r.getDeclaringType() == DashboardController.class)
            .orElse(false);
    Optional<ApiKeys.Key> key =
        header != null && header.startsWith(BEARER)
            ? current().match(header.substring(BEARER.length()))
            : dashboard
                ? request
                    .getCookies()
                    .findCookie(DashboardSessions.COOKIE)
                    .flatMap(c -> sessions.key(c.getValue()))
                    .flatMap(this::match)
                : Optional.empty();
    if (key.isEmpty() && dashboard) {
      return DashboardLogin.redirectToLogin(request);
    }
    if (key.isEmpty()) {
      return new Problem(
              HttpStatus.UNAUTHORIZED,
              "this service needs 'Authorization: Bearer <key>' with a key set in LOVAGE_API_KEY or"
                  + " LOVAGE_API_KEYS_FILE",
              null)
          .response()
          .header("WWW-Authenticate", "Bearer");
    }
    ApiScope needed = ApiScope.of(request.getMethod(), route);
    String what = request.getMethodName() + " " + request.getPath();
    if (!key.get().scopes().contains(needed)) {
      log.info("refused {} to key '{}': it lacks scope {}", what, key.get().name(), needed.wire());
      return new Problem(
              HttpStatus.FORBIDDEN,
              "the key '"
                  + key.get().name()
                  + "' may not "
                  + what
                  + ": that needs the scope '"
                  + needed.wire()
                  + "'",
              null)
          .response();
    }
    if (needed == ApiScope.ADMIN) {
      log.info("admin request {} by key '{}'", what, key.get().name());
    }
    return null;
  }

  /** The key of this text, if it is one of the keys accepted now. */
  Optional<ApiKeys.Key> match(String presented) {
    return current().match(presented);
  }

  /** The keys, read again from the file when it changed since the last read. */
  private ApiKeys current() {
    long now = System.nanoTime();
    if (file != null && now - checkedAt > RECHECK_NANOS) {
      checkedAt = now;
      try {
        if (!Files.getLastModifiedTime(file).equals(readAt)) {
          keys = read();
          log.info("API keys read again from {}: {} key(s)", file, keys.keys().size());
        }
      } catch (IOException | RuntimeException e) {
        log.error("kept the API keys read before; {} cannot be used: {}", file, e.getMessage());
      }
    }
    return keys;
  }

  private ApiKeys read() {
    ApiKeys read = new ApiKeys(java.util.List.of());
    if (file != null) {
      try {
        readAt = Files.getLastModifiedTime(file);
        read = ApiKeys.parse(Files.readString(file), file.toString());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read LOVAGE_API_KEYS_FILE " + file, e);
      }
    }
    return single == null ? read : read.with(ApiKeys.single(single));
  }
}
