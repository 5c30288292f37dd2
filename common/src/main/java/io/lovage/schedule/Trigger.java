package io.lovage.schedule;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.Period;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * When the runs of a periodic task are due. Each run's task id comes from the schedule's name and
 * the scheduled instant, so a trigger's instants depend only on the trigger, never on when a
 * process started: every replica computes the same ones.
 *
 * <pre>{@code
 * Trigger nightly = Trigger.Cron.parse("30 2 * * *", "Europe/Berlin");
 * nightly.next(Instant.parse("2026-03-28T12:00:00Z")); // 2026-03-29T01:30:00Z (03:30 CEST)
 * Trigger.of(10L, null, null, null).describe(); // "every 10s"
 * }</pre>
 */
public sealed interface Trigger permits Trigger.Every, Trigger.Cron, Trigger.At {

  /**
   * The first scheduled instant strictly after {@code after}; empty when there is none (a one-off
   * that is past, or a cron expression with no match within {@link Cron#SEARCH_HORIZON}).
   */
  Optional<Instant> next(Instant after);

  /**
   * The JSON-able description, e.g. {@code every 10s}, {@code cron 30 2 * * * Europe/Berlin},
   * {@code at 2027-01-01T00:00:00Z}.
   */
  String describe();

  /**
   * Reads the REST and configuration shape: exactly one of {@code everySeconds}, {@code cron} or
   * {@code at}; {@code timezone} goes with {@code cron} only and defaults to UTC.
   *
   * <pre>{@code
   * Trigger.of(null, "0 9 * * mon-fri", "Europe/Berlin", null);
   * Trigger.of(null, null, null, "2027-01-01T09:00:00+01:00");
   * }</pre>
   *
   * @throws IllegalArgumentException with a message fit for a 400 answer
   */
  static Trigger of(Long everySeconds, String cron, String timezone, String at) {
    if (Stream.of(everySeconds, cron, at).filter(Objects::nonNull).count() != 1) {
      throw new IllegalArgumentException("give exactly one of every, cron or at");
    }
    if (timezone != null && cron == null) {
      throw new IllegalArgumentException("timezone goes with cron only");
    }
    if (everySeconds != null) {
      if (everySeconds < 1) {
        throw new IllegalArgumentException("every must be at least 1 second, got " + everySeconds);
      }
      return new Every(Duration.ofSeconds(everySeconds));
    }
    if (cron != null) {
      return Cron.parse(cron, timezone == null ? "UTC" : timezone);
    }
    try {
      return new At(OffsetDateTime.parse(at).toInstant());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "at must be an ISO-8601 date-time with an offset, like 2027-01-01T09:00:00+01:00, got '"
              + at
              + "'",
          e);
    }
  }

  /**
   * Runs at every multiple of {@code period} since the Unix epoch, so {@code every 1h} runs on the
   * hour in UTC and every replica computes the same instants.
   *
   * <pre>{@code
   * new Trigger.Every(Duration.ofMinutes(5)).next(Instant.parse("2026-12-01T10:02:00Z")); // 10:05Z
   * }</pre>
   *
   * @param period at least one second, whole seconds
   */
  record Every(Duration period) implements Trigger {

    public Every {
      Objects.requireNonNull(period, "period");
      if (period.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("every must be at least 1 second, got " + period);
      }
      if (period.getNano() != 0) {
        throw new IllegalArgumentException("every must be whole seconds, got " + period);
      }
    }

    @Override
    public Optional<Instant> next(Instant after) {
      long seconds = period.getSeconds();
      return Optional.of(
          Instant.ofEpochSecond((Math.floorDiv(after.getEpochSecond(), seconds) + 1) * seconds));
    }

    @Override
    public String describe() {
      return "every " + period.getSeconds() + "s";
    }
  }

  /**
   * Runs when the local date-time in {@code zone} matches {@code expression}, correctly across
   * daylight saving time changes:
   *
   * <ul>
   *   <li>a local time skipped when the clocks spring forward runs at the instant the gap shifts it
   *       to ({@code 02:30} in Europe/Berlin on 2026-03-29 runs at 03:30 CEST), once: two local
   *       times that land on the same instant run once;
   *   <li>a local time repeated when the clocks fall back runs once, at its first (earlier-offset)
   *       occurrence, if the expression names a fixed time of day ({@code 30 1 * * *}); if its
   *       minute or hour field starts with {@code *} ({@code 0 * * * *}, {@code *}{@code /15 * * *
   *       *}, {@code @hourly}) it is an interval that follows the clock and runs in both passes, so
   *       an hourly job runs once per real hour. This is the rule of Debian's cron.
   * </ul>
   *
   * <p>An expression that can never match ({@code 0 0 30 2 *}) does not loop: {@link #next} looks
   * at most {@link #SEARCH_HORIZON} ahead and then answers empty, as it does for a date so rare
   * that it is further away ({@code 0 0 29 2 mon}).
   *
   * <pre>{@code
   * Trigger.Cron.parse("0 9 * * mon-fri", "Europe/Berlin").describe(); // "cron 0 9 * * mon-fri Europe/Berlin"
   * }</pre>
   */
  record Cron(CronExpression expression, ZoneId zone) implements Trigger {

    /** How far ahead {@link #next} looks for a match before it answers empty. */
    public static final Period SEARCH_HORIZON = Period.ofYears(5);

    public Cron {
      Objects.requireNonNull(expression, "expression");
      Objects.requireNonNull(zone, "zone");
    }

    /**
     * Reads an expression and an IANA zone name such as {@code Europe/Berlin} or {@code UTC}.
     *
     * @throws IllegalArgumentException for a bad expression or an unknown zone
     */
    public static Cron parse(String expression, String zone) {
      CronExpression parsed = CronExpression.parse(expression);
      if (zone == null || zone.isBlank()) {
        throw new IllegalArgumentException("timezone is empty, give an IANA name like UTC");
      }
      try {
        return new Cron(parsed, ZoneId.of(zone.strip()));
      } catch (DateTimeException e) {
        throw new IllegalArgumentException(
            "unknown timezone '" + zone + "', give an IANA name like Europe/Berlin or UTC", e);
      }
    }

    @Override
    public Optional<Instant> next(Instant after) {
      LocalDateTime from = searchStart(after);
      Optional<Instant> first = firstAfter(after, from, this::earlierInstant);
      if (!expression.isInterval()) {
        return first;
      }
      Optional<Instant> secondPass = firstAfter(after, from, this::laterInstant);
      return Stream.of(first, secondPass).flatMap(Optional::stream).min(Instant::compareTo);
    }

    /**
     * The earliest local time whose run can still be after {@code after}: usually its own local
     * time, but the start of the repeated hour while {@code after} is in it (its second pass runs
     * later), and the start of the gap just after the clocks sprang forward (02:30 runs at 03:30).
     */
    private LocalDateTime searchStart(Instant after) {
      LocalDateTime local = LocalDateTime.ofInstant(after, zone);
      ZoneRules rules = zone.getRules();
      ZoneOffsetTransition overlap = rules.getTransition(local);
      if (overlap != null) {
        return overlap.getDateTimeAfter();
      }
      ZoneOffsetTransition gap = rules.previousTransition(after.plusSeconds(1));
      if (gap != null
          && gap.isGap()
          && local.isBefore(gap.getDateTimeAfter().plus(gap.getDuration()))) {
        return gap.getDateTimeBefore();
      }
      return local;
    }

    /**
     * The earliest run after {@code after} among matches from {@code from}. Local times map to
     * instants in order except in a gap, where a shifted time (02:30 to 03:30) can come after a
     * later match (03:00); so the search goes on up to the local time of the best run found.
     */
    private Optional<Instant> firstAfter(
        Instant after, LocalDateTime from, Function<LocalDateTime, Instant> toInstant) {
      LocalDateTime limit = from.plus(SEARCH_HORIZON);
      Instant best = null;
      for (Optional<LocalDateTime> match = expression.firstMatch(from, limit);
          match.isPresent();
          match = expression.firstMatch(match.get().plusMinutes(1), limit)) {
        if (best != null && match.get().isAfter(LocalDateTime.ofInstant(best, zone))) {
          break;
        }
        Instant instant = toInstant.apply(match.get());
        if (instant.isAfter(after) && (best == null || instant.isBefore(best))) {
          best = instant;
        }
      }
      return Optional.ofNullable(best);
    }

    private Instant earlierInstant(LocalDateTime local) {
      return ZonedDateTime.ofLocal(local, zone, null).toInstant();
    }

    private Instant laterInstant(LocalDateTime local) {
      return ZonedDateTime.ofLocal(local, zone, null).withLaterOffsetAtOverlap().toInstant();
    }

    @Override
    public String describe() {
      return "cron " + expression.text() + " " + zone.getId();
    }
  }

  /**
   * Runs once, at {@code at}.
   *
   * <pre>{@code
   * new Trigger.At(Instant.parse("2027-01-01T00:00:00Z")).describe(); // "at 2027-01-01T00:00:00Z"
   * }</pre>
   */
  record At(Instant at) implements Trigger {

    public At {
      Objects.requireNonNull(at, "at");
    }

    @Override
    public Optional<Instant> next(Instant after) {
      return at.isAfter(after) ? Optional.of(at) : Optional.empty();
    }

    @Override
    public String describe() {
      return "at " + at;
    }
  }
}
