package io.lovage.schedule;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A classic five-field cron expression, {@code minute hour day-of-month month day-of-week}, as
 * Celery's {@code crontab} and Vixie cron read it; it matches local date-times, and {@link
 * Trigger.Cron} puts it in a time zone.
 *
 * <pre>{@code
 * CronExpression weekdayMornings = CronExpression.parse("30 8 * * mon-fri");
 * weekdayMornings.matches(LocalDateTime.parse("2026-12-07T08:30")); // true, a Monday
 * }</pre>
 *
 * <p>Each field takes {@code *}, a number, a range {@code a-b}, a step {@code *}{@code /n} or
 * {@code a-b/n}, or a list of these {@code a,b-c}. Month names {@code jan}..{@code dec} and day
 * names {@code sun}..{@code sat} are read in any case; day-of-week runs 0-7, where 0 and 7 are both
 * Sunday. The macros {@code @yearly} (or {@code @annually}), {@code @monthly}, {@code @weekly},
 * {@code @daily} (or {@code @midnight}) and {@code @hourly} stand for their usual expressions.
 * Ranges do not wrap around ({@code 22-2} is an error; write {@code 22-23,0-2}), except that a
 * day-of-week range may end on Sunday ({@code fri-sun}).
 *
 * <p><b>Day-of-month and day-of-week must both match</b>, as in Celery's {@code crontab}, so {@code
 * 0 9 1-7 * mon} is 09:00 on the first Monday of each month and a schedule moved from Celery beat
 * runs on the same days. Vixie cron differs only when both fields are restricted: it runs when
 * either matches (there the example would be the 1st to 7th and every Monday). When one of them is
 * {@code *}, both agree that the other decides.
 *
 * <p>Invalid text is an {@link IllegalArgumentException} whose message names the field and the bad
 * value, e.g. {@code cron field 'hour' has 24, allowed 0-23}.
 *
 * @param text the expression as written (whitespace collapsed), which {@link Trigger#describe}
 *     shows
 * @param minutes 0-59
 * @param hours 0-23
 * @param daysOfMonth 1-31
 * @param months 1-12
 * @param daysOfWeek 0-6, Sunday is 0
 */
public record CronExpression(
    String text,
    Set<Integer> minutes,
    Set<Integer> hours,
    Set<Integer> daysOfMonth,
    Set<Integer> months,
    Set<Integer> daysOfWeek) {

  private static final Map<String, String> MACROS =
      Map.of(
          "@yearly", "0 0 1 1 *",
          "@annually", "0 0 1 1 *",
          "@monthly", "0 0 1 * *",
          "@weekly", "0 0 * * 0",
          "@daily", "0 0 * * *",
          "@midnight", "0 0 * * *",
          "@hourly", "0 * * * *");

  /**
   * Checks that the sets are what {@code text} says, so that what {@link Trigger#describe} shows is
   * what runs; use {@link #parse} to read an expression.
   */
  public CronExpression {
    Objects.requireNonNull(text, "text");
    text = String.join(" ", text.strip().split("\\s+"));
    minutes = CronField.MINUTE.checked(minutes);
    hours = CronField.HOUR.checked(hours);
    daysOfMonth = CronField.DAY_OF_MONTH.checked(daysOfMonth);
    months = CronField.MONTH.checked(months);
    daysOfWeek = CronField.DAY_OF_WEEK.checked(daysOfWeek);
    String[] fields = fields(text);
    if (!minutes.equals(CronField.MINUTE.parse(fields[0]))
        || !hours.equals(CronField.HOUR.parse(fields[1]))
        || !daysOfMonth.equals(CronField.DAY_OF_MONTH.parse(fields[2]))
        || !months.equals(CronField.MONTH.parse(fields[3]))
        || !daysOfWeek.equals(CronField.DAY_OF_WEEK.parse(fields[4]))) {
      throw new IllegalArgumentException(
          "cron expression '" + text + "' does not say the values given with it");
    }
  }

  /**
   * Reads a five-field expression or a macro.
   *
   * @throws IllegalArgumentException naming the field and the bad value
   */
  public static CronExpression parse(String text) {
    String[] fields = fields(text);
    return new CronExpression(
        text,
        CronField.MINUTE.parse(fields[0]),
        CronField.HOUR.parse(fields[1]),
        CronField.DAY_OF_MONTH.parse(fields[2]),
        CronField.MONTH.parse(fields[3]),
        CronField.DAY_OF_WEEK.parse(fields[4]));
  }

  /** Whether this expression runs at {@code time}, a whole minute (seconds must be zero). */
  public boolean matches(LocalDateTime time) {
    return time.getSecond() == 0
        && time.getNano() == 0
        && minutes.contains(time.getMinute())
        && hours.contains(time.getHour())
        && matches(time.toLocalDate());
  }

  /**
   * Whether this expression runs on {@code date}: month, day-of-month and day-of-week all match.
   */
  public boolean matches(LocalDate date) {
    return months.contains(date.getMonthValue())
        && daysOfMonth.contains(date.getDayOfMonth())
        && daysOfWeek.contains(date.getDayOfWeek().getValue() % 7);
  }

  @Override
  public String toString() {
    return text;
  }

  /**
   * Whether the minute or hour field starts with {@code *} ({@code @hourly} too): such an
   * expression is an interval that follows the clock, so it also runs in the second pass of an hour
   * repeated when the clocks fall back, as in Debian's cron; a fixed time of day runs once.
   */
  boolean isInterval() {
    String[] fields = fields(text);
    return fields[0].startsWith("*") || fields[1].startsWith("*");
  }

  /**
   * The first matching local date-time at or after {@code from} (rounded up to a whole minute) and
   * not after {@code limit}. It skips a month, a day or an hour at a time, so even an expression
   * that matches once a year takes a few hundred steps.
   */
  Optional<LocalDateTime> firstMatch(LocalDateTime from, LocalDateTime limit) {
    LocalDateTime time = from.truncatedTo(ChronoUnit.MINUTES);
    if (time.isBefore(from)) {
      time = time.plusMinutes(1);
    }
    while (!time.isAfter(limit)) {
      LocalDate date = time.toLocalDate();
      if (!months.contains(date.getMonthValue())) {
        time = date.withDayOfMonth(1).plusMonths(1).atStartOfDay();
      } else if (!matches(date)) {
        time = date.plusDays(1).atStartOfDay();
      } else {
        int hour = firstAtOrAfter(hours, time.getHour(), 23);
        if (hour < 0) {
          time = date.plusDays(1).atStartOfDay();
        } else if (hour > time.getHour()) {
          time = date.atTime(hour, 0);
        } else {
          int minute = firstAtOrAfter(minutes, time.getMinute(), 59);
          if (minute >= 0) {
            return Optional.of(time.withMinute(minute));
          }
          time = time.truncatedTo(ChronoUnit.HOURS).plusHours(1);
        }
      }
    }
    return Optional.empty();
  }

  private static int firstAtOrAfter(Set<Integer> values, int from, int max) {
    for (int value = from; value <= max; value++) {
      if (values.contains(value)) {
        return value;
      }
    }
    return -1;
  }

  private static String[] fields(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("cron expression is empty");
    }
    String[] fields = text.strip().split("\\s+");
    if (fields.length == 1 && fields[0].startsWith("@")) {
      String macro = MACROS.get(fields[0].toLowerCase(Locale.ROOT));
      if (macro == null) {
        throw new IllegalArgumentException(
            "unknown cron macro '"
                + fields[0]
                + "', allowed @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly");
      }
      return macro.split(" ");
    }
    if (fields.length != 5) {
      throw new IllegalArgumentException(
          "cron expression '"
              + text.strip()
              + "' has "
              + fields.length
              + " fields, needs 5: minute hour day-of-month month day-of-week");
    }
    return fields;
  }
}
