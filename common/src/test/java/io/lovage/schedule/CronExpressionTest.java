package io.lovage.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CronExpressionTest {

  private static Set<Integer> range(int from, int to) {
    return Set.copyOf(IntStream.rangeClosed(from, to).boxed().toList());
  }

  private static String errorOf(String text) {
    return assertThrows(IllegalArgumentException.class, () -> CronExpression.parse(text))
        .getMessage();
  }

  @Test
  void theFiveFieldsAreMinuteHourDayOfMonthMonthAndDayOfWeek() {
    CronExpression cron = CronExpression.parse("5 4 3 2 1");

    assertEquals(Set.of(5), cron.minutes());
    assertEquals(Set.of(4), cron.hours());
    assertEquals(Set.of(3), cron.daysOfMonth());
    assertEquals(Set.of(2), cron.months());
    assertEquals(Set.of(1), cron.daysOfWeek());
  }

  @Test
  void starsStepsRangesAndListsExpandToTheirValues() {
    CronExpression cron = CronExpression.parse("*/15 8-18/5 1,15,20-22 * *");

    assertEquals(Set.of(0, 15, 30, 45), cron.minutes());
    assertEquals(Set.of(8, 13, 18), cron.hours());
    assertEquals(Set.of(1, 15, 20, 21, 22), cron.daysOfMonth());
    assertEquals(range(1, 12), cron.months());
    assertEquals(range(0, 6), cron.daysOfWeek());
  }

  @Test
  void monthAndDayNamesAreReadInAnyCase() {
    CronExpression cron = CronExpression.parse("0 0 * JAN,jul-Sep Mon-FRI");

    assertEquals(Set.of(1, 7, 8, 9), cron.months());
    assertEquals(Set.of(1, 2, 3, 4, 5), cron.daysOfWeek());
  }

  @Test
  void bothZeroAndSevenAreSunday() {
    assertEquals(Set.of(0), CronExpression.parse("0 0 * * 7").daysOfWeek());
    assertEquals(Set.of(0), CronExpression.parse("0 0 * * 0").daysOfWeek());
    assertEquals(Set.of(0, 5, 6), CronExpression.parse("0 0 * * 5-7").daysOfWeek());
    assertEquals(Set.of(0, 5, 6), CronExpression.parse("0 0 * * fri-sun").daysOfWeek());
  }

  @Test
  void theMacrosStandForTheirUsualExpressions() {
    Map<String, String> macros =
        Map.of(
            "@yearly", "0 0 1 1 *",
            "@annually", "0 0 1 1 *",
            "@monthly", "0 0 1 * *",
            "@weekly", "0 0 * * 0",
            "@daily", "0 0 * * *",
            "@midnight", "0 0 * * *",
            "@HOURLY", "0 * * * *");
    macros.forEach(
        (macro, meaning) -> {
          CronExpression read = CronExpression.parse(macro);
          CronExpression expected = CronExpression.parse(meaning);
          assertEquals(
              List.of(
                  expected.minutes(),
                  expected.hours(),
                  expected.daysOfMonth(),
                  expected.months(),
                  expected.daysOfWeek()),
              List.of(
                  read.minutes(),
                  read.hours(),
                  read.daysOfMonth(),
                  read.months(),
                  read.daysOfWeek()),
              macro);
          assertEquals(macro, read.text());
        });
  }

  @Test
  void aDayMustMatchBothDayOfMonthAndDayOfWeekAsInCelery() {
    // The first Monday of the month; Vixie cron would read it as the 1st-7th or any Monday.
    CronExpression firstMonday = CronExpression.parse("0 9 1-7 * mon");

    assertTrue(firstMonday.matches(LocalDate.parse("2026-12-07")), "Monday the 7th");
    assertFalse(firstMonday.matches(LocalDate.parse("2026-12-14")), "Monday the 14th");
    assertFalse(firstMonday.matches(LocalDate.parse("2026-12-01")), "Tuesday the 1st");
  }

  @Test
  void whenOneDayFieldIsAStarTheOtherDecidesAsInBothCeleryAndVixieCron() {
    CronExpression mondays = CronExpression.parse("0 9 * * mon");
    CronExpression firsts = CronExpression.parse("0 9 1 * *");

    assertTrue(mondays.matches(LocalDate.parse("2026-12-14")));
    assertFalse(mondays.matches(LocalDate.parse("2026-12-15")));
    assertTrue(firsts.matches(LocalDate.parse("2026-12-01")));
    assertFalse(firsts.matches(LocalDate.parse("2026-12-02")));
  }

  @Test
  void aDateTimeMatchesOnlyOnAWholeMinute() {
    CronExpression cron = CronExpression.parse("30 8 * * *");

    assertTrue(cron.matches(LocalDateTime.parse("2026-12-01T08:30")));
    assertFalse(cron.matches(LocalDateTime.parse("2026-12-01T08:30:01")));
    assertFalse(cron.matches(LocalDateTime.parse("2026-12-01T08:31")));
  }

  @Test
  void theTextIsKeptAsWrittenWithItsWhitespaceCollapsed() {
    CronExpression cron = CronExpression.parse("  0   9 * *\tmon-fri ");

    assertEquals("0 9 * * mon-fri", cron.text());
    assertEquals("0 9 * * mon-fri", cron.toString());
    assertEquals(cron, CronExpression.parse("0 9 * * mon-fri"));
  }

  @Test
  void theConstructorRefusesValuesThatTheTextDoesNotSay() {
    var error =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new CronExpression(
                    "0 9 * * *", Set.of(0), Set.of(10), range(1, 31), range(1, 12), range(0, 6)));

    assertEquals(
        "cron expression '0 9 * * *' does not say the values given with it", error.getMessage());
  }

  @Test
  void aValueOutOfRangeIsNamedWithItsField() {
    assertEquals("cron field 'hour' has 24, allowed 0-23", errorOf("0 24 * * *"));
    assertEquals("cron field 'minute' has 60, allowed 0-59", errorOf("0-60 * * * *"));
    assertEquals("cron field 'day-of-month' has 0, allowed 1-31", errorOf("0 0 0 * *"));
    assertEquals("cron field 'month' has 13, allowed 1-12 or jan-dec", errorOf("0 0 1 13 *"));
    assertEquals("cron field 'day-of-week' has 8, allowed 0-7 or sun-sat", errorOf("0 0 * * 8"));
    assertEquals(
        "cron field 'minute' has 99999999999, allowed 0-59", errorOf("99999999999 * * * *"));
  }

  @Test
  void anUnknownNameIsNamedWithItsField() {
    assertEquals("cron field 'month' has 'foo', allowed 1-12 or jan-dec", errorOf("0 0 * foo *"));
    assertEquals("cron field 'month' has 'mon', allowed 1-12 or jan-dec", errorOf("0 0 * mon *"));
    assertEquals("cron field 'hour' has 'jan', allowed 0-23", errorOf("0 jan * * *"));
  }

  @Test
  void malformedPartsAreNamedWithTheirField() {
    assertEquals(
        "cron field 'hour' has range '22-2' that runs backwards; write it as a list, like"
            + " 22-23,0-2",
        errorOf("0 22-2 * * *"));
    assertEquals(
        "cron field 'minute' has '*/0', a step must be a whole number of at least 1",
        errorOf("*/0 * * * *"));
    assertEquals(
        "cron field 'minute' has '*/x', a step must be a whole number of at least 1",
        errorOf("*/x * * * *"));
    assertEquals(
        "cron field 'minute' has '5/10', a step needs * or a range before it, like */10 or"
            + " 5-59/10",
        errorOf("5/10 * * * *"));
    assertEquals("cron field 'minute' has an empty list item in '1,,2'", errorOf("1,,2 * * * *"));
    assertEquals(
        "cron field 'hour' has '-1', which is not a value, a range or a step",
        errorOf("0 -1 * * *"));
  }

  @Test
  void aWrongNumberOfFieldsOrAnUnknownMacroIsRefused() {
    assertEquals(
        "cron expression '0 0 9 * * *' has 6 fields, needs 5: minute hour day-of-month month"
            + " day-of-week",
        errorOf("0 0 9 * * *"));
    assertEquals(
        "unknown cron macro '@reboot', allowed @yearly, @annually, @monthly, @weekly, @daily,"
            + " @midnight, @hourly",
        errorOf("@reboot"));
    assertEquals("cron expression is empty", errorOf("  "));
    assertEquals("cron expression is empty", errorOf(null));
  }

  @Test
  void onlyExpressionsWhoseMinuteOrHourStartsWithAStarAreIntervals() {
    assertTrue(CronExpression.parse("0 * * * *").isInterval());
    assertTrue(CronExpression.parse("*/15 1 * * *").isInterval());
    assertTrue(CronExpression.parse("@hourly").isInterval());
    assertFalse(CronExpression.parse("30 1 * * *").isInterval());
    assertFalse(CronExpression.parse("@daily").isInterval());
  }

  @Test
  void findingTheNextMatchSkipsByFieldInsteadOfMinuteByMinute() {
    CronExpression yearly = CronExpression.parse("@yearly");

    assertEquals(
        java.util.Optional.of(LocalDateTime.parse("2027-01-01T00:00")),
        yearly.firstMatch(
            LocalDateTime.parse("2026-01-01T00:00:30"), LocalDateTime.parse("2031-01-01T00:00")));
  }
}
