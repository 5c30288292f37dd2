package io.lovage.protocol;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;

/** Times as Celery writes them: Python's {@code datetime.isoformat()} of an aware UTC datetime. */
public final class CeleryTime {
  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss");

  private CeleryTime() {}

  /** {@code 2030-01-02T03:04:05+00:00}, or with {@code .123456} when there are microseconds. */
  public static String format(Instant instant) {
    OffsetDateTime utc = instant.atOffset(ZoneOffset.UTC);
    String text = SECONDS.format(utc);
    int micros = utc.get(ChronoField.MICRO_OF_SECOND);
    if (micros != 0) {
      text += String.format(java.util.Locale.ROOT, ".%06d", micros);
    }
    return text + "+00:00";
  }

  /**
   * Parses an ISO-8601 time with or without offset; one without is taken as UTC, as Celery does.
   */
  public static Instant parse(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException withoutOffset) {
      return LocalDateTime.parse(text).toInstant(ZoneOffset.UTC);
    }
  }
}
