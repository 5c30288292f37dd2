package io.lovage.producer;

import io.lovage.service.ApiKeyCheck;
import io.lovage.service.Problem;
import io.lovage.service.WithoutApiKey;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.web.router.RouteAttributes;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * When {@code LOVAGE_API_KEY} is set, every endpoint but those marked {@link WithoutApiKey} ({@code
 * /health}, the OpenAPI document and its UI) needs {@code Authorization: Bearer <key>}; anything
 * else, an unknown path too, is a 401 problem. The key is compared in constant time. Serve the
 * producer behind TLS (a reverse proxy) so the key is not sent in clear.
 */
@ServerFilter(ServerFilter.MATCH_ALL_PATTERN)
@Requires(property = "lovage.api.key")
final class ApiKeyFilter implements ApiKeyCheck {
  private static final String BEARER = "Bearer ";
  private final byte[] key;

  ApiKeyFilter(@Value("${lovage.api.key}") String key) {
    this.key = key.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String description() {
    return "with the key set in LOVAGE_API_KEY";
  }

  @RequestFilter
  @Nullable
  HttpResponse<?> authenticate(HttpRequest<?> request) {
    // The route is matched before this filter runs; a path with no route has no route info.
    boolean open =
        RouteAttributes.getRouteInfo(request)
            .map(route -> route.getAnnotationMetadata().hasAnnotation(WithoutApiKey.class))
            .orElse(false);
    if (open) {
      return null;
    }
    String header = request.getHeaders().get("Authorization");
    if (header != null
        && header.startsWith(BEARER)
        && MessageDigest.isEqual(
            key, header.substring(BEARER.length()).getBytes(StandardCharsets.UTF_8))) {
      return null;
    }
    return new Problem(
            HttpStatus.UNAUTHORIZED,
            "this service needs 'Authorization: Bearer <key>' with the key set in LOVAGE_API_KEY",
            null)
        .response()
        .header("WWW-Authenticate", "Bearer");
  }
}
