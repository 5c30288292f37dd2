package io.lovage.producer;

import jakarta.inject.Singleton;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The dashboard's sign-ins: a random session id (the cookie {@value #COOKIE}) mapped in this
 * process's memory to the API key typed into the login form, so the key itself never travels in a
 * cookie or a URL. The key is checked again on every request, so a key removed from the key file
 * ends its sessions. Sessions end after {@link #IDLE} without a request, or when the producer
 * restarts (sign in again).
 */
@Singleton
final class DashboardSessions {
  static final String COOKIE = "lovage_session";
  static final Duration IDLE = Duration.ofHours(8);

  /** A bound on memory: past it, the sessions idle longest are forgotten first. */
  static final int MAX_SESSIONS = 10_000;

  private record Session(String key, Instant lastUsed) {}

  private final Map<String, Session> sessions = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();
  private final Clock clock = Clock.systemUTC();

  /** A new session for this key; its id goes into the cookie. */
  String start(String key) {
    forgetIdle();
    if (sessions.size() >= MAX_SESSIONS) {
      sessions.entrySet().stream()
          .min(Map.Entry.comparingByValue(java.util.Comparator.comparing(Session::lastUsed)))
          .ifPresent(oldest -> sessions.remove(oldest.getKey()));
    }
    byte[] id = new byte[32];
    random.nextBytes(id);
    String text = HexFormat.of().formatHex(id);
    sessions.put(text, new Session(key, clock.instant()));
    return text;
  }

  /** The key of a session still open, which this request keeps open for another {@link #IDLE}. */
  Optional<String> key(String id) {
    if (id == null) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    Session session =
        sessions.computeIfPresent(
            id, (k, s) -> s.lastUsed().plus(IDLE).isBefore(now) ? null : new Session(s.key(), now));
    return Optional.ofNullable(session).map(Session::key);
  }

  void end(String id) {
    if (id != null) {
      sessions.remove(id);
    }
  }

  private void forgetIdle() {
    Instant cutoff = clock.instant().minus(IDLE);
    sessions.values().removeIf(s -> s.lastUsed().isBefore(cutoff));
  }
}
