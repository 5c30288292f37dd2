package io.lovage.service;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a duration from a setting the way people write them in an environment: {@code 30} or {@code
 * 2.5s} (seconds, as Celery's settings are), {@code 10m}, {@code 24h}, {@code 7d}, or ISO-8601
 * ({@code PT1H30M}).
 */
public final class DurationSetting {
  private static final Pattern AMOUNT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([smhd]?)");

  private DurationSetting() {}

  /** The duration {@code text} names; {@code fallback} when it is blank. */
  public static Duration parse(String name, String text, Duration fallback) {
    if (text == null || text.isBlank()) {
      return fallback;
    }
    String t = text.strip();
    Matcher amount = AMOUNT.matcher(t.toLowerCase(java.util.Locale.ROOT));
    try {
      if (amount.matches()) {
        double value = Double.parseDouble(amount.group(1));
        long unitSeconds =
            switch (amount.group(2)) {
              case "m" -> 60;
              case "h" -> 3600;
              case "d" -> 86_400;
              default -> 1;
            };
        return Duration.ofMillis(Math.round(value * unitSeconds * 1000));
      }
      return Duration.parse(t);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          name + " must be a duration like 30s, 10m, 24h, 7d or PT1H, got '" + text + "'", e);
    }
  }
}
