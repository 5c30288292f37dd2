package io.lovage.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TriggerTest {

  private static final String BERLIN = "Europe/Berlin";
  private static final String NEW_YORK = "America/New_York";

  /** Every fire instant strictly after {@code from} and before {@code until}, by asking next(). */
  private static List<Instant> fires(Trigger trigger, String from, String until) {
    Instant end = Instant.parse(until);
    List<Instant> fires = new ArrayList<>();
    Instant after = Instant.parse(from);
    for (Optional<Instant> next = trigger.next(after);
        next.isPresent() && next.get().isBefore(end);
        next = trigger.next(after)) {
      assertTrue(next.get().isAfter(after), () -> "next(" + fires + ") went back");
      fires.add(next.get());
      after = next.get();
    }
    return fires;
  }

  /** Instants from {@code first} to {@code last}, both included, {@code step} apart. */
  private static List<Instant> grid(String first, String last, Duration step) {
    List<Instant> grid = new ArrayList<>();
    for (Instant t = Instant.parse(first); !t.isAfter(Instant.parse(last)); t = t.plus(step)) {
      grid.add(t);
    }
    return grid;
  }

  private static List<Instant> instants(String... texts) {
    return List.of(texts).stream().map(Instant::parse).toList();
  }

  // Every

  @Test
  void everyRunsAtMultiplesOfThePeriodSinceTheEpoch() {
    Trigger every = new Trigger.Every(Duration.ofSeconds(10));

    assertEquals(
        instants("2026-12-01T10:00:10Z", "2026-12-01T10:00:20Z", "2026-12-01T10:00:30Z"),
        fires(every, "2026-12-01T10:00:03.250Z", "2026-12-01T10:00:31Z"));
  }

  @Test
  void everyGivesReplicasThatStartedAtDifferentTimesTheSameInstants() {
    Trigger every = new Trigger.Every(Duration.ofSeconds(7));

    List<Instant> early = fires(every, "2026-12-01T10:00:00Z", "2026-12-01T10:10:00Z");
    List<Instant> late = fires(every, "2026-12-01T10:03:01Z", "2026-12-01T10:10:00Z");

    assertEquals(early.subList(early.size() - late.size(), early.size()), late);
    assertEquals(0, late.getFirst().getEpochSecond() % 7);
  }

  @Test
  void everyNextFromAnInstantOnTheGridIsTheFollowingOne() {
    Trigger hourly = new Trigger.Every(Duration.ofHours(1));

    assertEquals(
        Optional.of(Instant.parse("2026-12-01T11:00:00Z")),
        hourly.next(Instant.parse("2026-12-01T10:00:00Z")));
  }

  @Test
  void everyWorksBeforeTheEpochToo() {
    assertEquals(
        Optional.of(Instant.EPOCH),
        new Trigger.Every(Duration.ofSeconds(10)).next(Instant.parse("1969-12-31T23:59:59.5Z")));
  }

  @Test
  void everyRefusesPeriodsShorterThanASecondOrWithFractionsOfOne() {
    var tooShort =
        assertThrows(
            IllegalArgumentException.class, () -> new Trigger.Every(Duration.ofMillis(500)));
    assertEquals("every must be at least 1 second, got PT0.5S", tooShort.getMessage());

    var fraction =
        assertThrows(
            IllegalArgumentException.class, () -> new Trigger.Every(Duration.ofMillis(1500)));
    assertEquals("every must be whole seconds, got PT1.5S", fraction.getMessage());
  }

  // At

  @Test
  void atRunsOnceAndThenNeverAgain() {
    Trigger at = new Trigger.At(Instant.parse("2027-01-01T00:00:00Z"));

    assertEquals(
        instants("2027-01-01T00:00:00Z"),
        fires(at, "2026-12-31T00:00:00Z", "2028-01-01T00:00:00Z"));
    assertEquals(Optional.empty(), at.next(Instant.parse("2027-01-01T00:00:00Z")));
  }

  // Cron

  @Test
  void aCronJobRunsAtItsLocalTimeInWinterAndInSummer() {
    Trigger nine = Trigger.Cron.parse("0 9 * * *", BERLIN);

    assertEquals(
        Optional.of(Instant.parse("2026-01-15T08:00:00Z")),
        nine.next(Instant.parse("2026-01-15T00:00:00Z")));
    assertEquals(
        Optional.of(Instant.parse("2026-07-15T07:00:00Z")),
        nine.next(Instant.parse("2026-07-15T00:00:00Z")));
  }

  @Test
  void aCronJobsNextRunIsStrictlyAfterTheGivenInstantAndOnAWholeMinute() {
    Trigger everyMinute = Trigger.Cron.parse("* * * * *", "UTC");

    assertEquals(
        Optional.of(Instant.parse("2026-12-01T10:01:00Z")),
        everyMinute.next(Instant.parse("2026-12-01T10:00:00Z")));
    assertEquals(
        Optional.of(Instant.parse("2026-12-01T10:01:00Z")),
        everyMinute.next(Instant.parse("2026-12-01T10:00:59.999Z")));
  }

  @Test
  void aDailyJobAtHalfPastTwoRunsOnceOnTheDayTheClocksSpringForward() {
    // Europe/Berlin, 2026-03-29: 02:00 CET becomes 03:00 CEST, so 02:30 never happens.
    Trigger daily = Trigger.Cron.parse("30 2 * * *", BERLIN);

    assertEquals(
        instants(
            "2026-03-28T01:30:00Z", // 02:30 CET
            "2026-03-29T01:30:00Z", // 03:30 CEST, where the gap shifts 02:30
            "2026-03-30T00:30:00Z"), // 02:30 CEST
        fires(daily, "2026-03-28T00:00:00Z", "2026-03-31T00:00:00Z"));
  }

  @Test
  void aDailyJobAtHalfPastOneRunsOnceOnTheDayTheClocksFallBack() {
    // America/New_York, 2026-11-01: 02:00 EDT becomes 01:00 EST, so 01:30 happens twice.
    Trigger daily = Trigger.Cron.parse("30 1 * * *", NEW_YORK);

    assertEquals(
        instants(
            "2026-10-31T05:30:00Z", // 01:30 EDT
            "2026-11-01T05:30:00Z", // the first 01:30, EDT
            "2026-11-02T06:30:00Z"), // 01:30 EST
        fires(daily, "2026-10-31T00:00:00Z", "2026-11-03T00:00:00Z"));
  }

  @Test
  void anHourlyJobFiresOncePerRealHourAcrossBothTransitions() {
    Duration hour = Duration.ofHours(1);
    for (String zone : List.of(BERLIN, NEW_YORK)) {
      Trigger hourly = Trigger.Cron.parse("0 * * * *", zone);
      // Berlin springs forward at 01:00Z on 03-29 and falls back at 01:00Z on 10-25; New York at
      // 07:00Z on 03-08 and 06:00Z on 11-01. Each window holds one of them.
      for (String day : List.of("2026-03-29", "2026-10-25", "2026-03-08", "2026-11-01")) {
        String from = day + "T00:00:00Z";
        String until = day + "T12:00:00Z";

        List<Instant> fires = fires(hourly, from, until);

        assertEquals(grid(day + "T01:00:00Z", day + "T11:00:00Z", hour), fires, zone + " " + day);
      }
    }
    assertEquals(
        instants("2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"),
        fires(
            Trigger.Cron.parse("@hourly", NEW_YORK),
            "2026-11-01T04:30:00Z",
            "2026-11-01T07:30:00Z"),
        "01:00 EDT, 01:00 EST, 02:00 EST");
  }

  @Test
  void aHalfHourlyJobNeverFiresTwiceAtTheSameInstantAcrossTheGap() {
    Trigger halfHourly = Trigger.Cron.parse("*/30 * * * *", BERLIN);

    List<Instant> fires = fires(halfHourly, "2026-03-28T23:00:00Z", "2026-03-29T03:00:00Z");

    assertEquals(fires.size(), new HashSet<>(fires).size(), fires.toString());
    assertEquals(
        grid("2026-03-28T23:30:00Z", "2026-03-29T02:30:00Z", Duration.ofMinutes(30)), fires);
  }

  @Test
  void aJobEveryTwentyMinutesOfTheOneOClockHourRunsInBothPassesOfTheRepeatedHour() {
    // Its minute field starts with *, so it follows the clock, as in Debian's cron.
    Trigger trigger = Trigger.Cron.parse("*/20 1 * * *", NEW_YORK);

    assertEquals(
        instants(
            "2026-11-01T05:00:00Z",
            "2026-11-01T05:20:00Z",
            "2026-11-01T05:40:00Z",
            "2026-11-01T06:00:00Z",
            "2026-11-01T06:20:00Z",
            "2026-11-01T06:40:00Z"),
        fires(trigger, "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"));
  }

  @Test
  void aReplicaAskingFromTheSecondPassOfTheRepeatedHourFindsTheSameNextRun() {
    Trigger hourly = Trigger.Cron.parse("0 * * * *", NEW_YORK);
    Trigger daily = Trigger.Cron.parse("30 1 * * *", NEW_YORK);

    // 06:10Z is 01:10 EST, the second pass.
    assertEquals(
        Optional.of(Instant.parse("2026-11-01T07:00:00Z")),
        hourly.next(Instant.parse("2026-11-01T06:10:00Z")));
    assertEquals(
        Optional.of(Instant.parse("2026-11-02T06:30:00Z")),
        daily.next(Instant.parse("2026-11-01T06:10:00Z")));
    // 05:10Z is 01:10 EDT, the first pass: the hourly job's next run is 01:00 EST.
    assertEquals(
        Optional.of(Instant.parse("2026-11-01T06:00:00Z")),
        hourly.next(Instant.parse("2026-11-01T05:10:00Z")));
  }

  @Test
  void aReplicaAskingJustAfterTheClocksSprangForwardStillFindsTheShiftedRun() {
    // 01:00Z is 03:00 CEST, right after the gap; 02:45 that day runs at 03:45 CEST.
    Trigger daily = Trigger.Cron.parse("45 2 * * *", BERLIN);

    assertEquals(
        Optional.of(Instant.parse("2026-03-29T01:45:00Z")),
        daily.next(Instant.parse("2026-03-29T01:00:00Z")));
  }

  @Test
  void aLeapDayJobFindsTheNextTwentyNinthOfFebruaryYearsAhead() {
    Trigger leapDay = Trigger.Cron.parse("0 0 29 2 *", "UTC");

    assertEquals(
        Optional.of(Instant.parse("2028-02-29T00:00:00Z")),
        leapDay.next(Instant.parse("2026-03-01T00:00:00Z")));
  }

  @Test
  void anExpressionThatCanNeverMatchHasNoNextRunInsteadOfLoopingForever() {
    Trigger februaryThirtieth = Trigger.Cron.parse("0 0 30 2 *", "UTC");

    Optional<Instant> next =
        assertTimeoutPreemptively(
            Duration.ofSeconds(10),
            () -> februaryThirtieth.next(Instant.parse("2026-12-01T00:00:00Z")));

    assertEquals(Optional.empty(), next);
  }

  @Test
  void aCronTriggerInAnUnknownZoneIsRefusedWithItsName() {
    var error =
        assertThrows(
            IllegalArgumentException.class, () -> Trigger.Cron.parse("0 9 * * *", "Mars/Base"));

    assertEquals(
        "unknown timezone 'Mars/Base', give an IANA name like Europe/Berlin or UTC",
        error.getMessage());
  }

  // describe and of

  @Test
  void eachTriggerDescribesItselfInItsJsonShape() {
    assertEquals("every 10s", new Trigger.Every(Duration.ofSeconds(10)).describe());
    assertEquals(
        "cron 30 2 * * * Europe/Berlin", Trigger.Cron.parse("30  2 * * *", BERLIN).describe());
    assertEquals("cron @daily UTC", Trigger.Cron.parse("@daily", "UTC").describe());
    assertEquals(
        "at 2027-01-01T00:00:00Z",
        new Trigger.At(Instant.parse("2027-01-01T00:00:00Z")).describe());
  }

  @Test
  void ofReadsEachOfEveryCronAndAt() {
    assertEquals(new Trigger.Every(Duration.ofSeconds(10)), Trigger.of(10L, null, null, null));
    assertEquals(
        new Trigger.Cron(CronExpression.parse("0 9 * * mon-fri"), ZoneId.of(BERLIN)),
        Trigger.of(null, "0 9 * * mon-fri", BERLIN, null));
    assertEquals(
        new Trigger.At(Instant.parse("2027-01-01T08:00:00Z")),
        Trigger.of(null, null, null, "2027-01-01T09:00:00+01:00"));
  }

  @Test
  void ofPutsACronWithoutATimezoneInUtc() {
    assertEquals(
        ZoneId.of("UTC"), ((Trigger.Cron) Trigger.of(null, "0 9 * * *", null, null)).zone());
  }

  @Test
  void ofTakesExactlyOneOfEveryCronOrAt() {
    for (Runnable call :
        List.<Runnable>of(
            () -> Trigger.of(null, null, null, null),
            () -> Trigger.of(10L, "0 9 * * *", null, null),
            () -> Trigger.of(10L, null, null, "2027-01-01T09:00:00Z"),
            () -> Trigger.of(null, "0 9 * * *", null, "2027-01-01T09:00:00Z"))) {
      var error = assertThrows(IllegalArgumentException.class, call::run);
      assertEquals("give exactly one of every, cron or at", error.getMessage());
    }
  }

  @Test
  void ofRefusesEveryBelowOneSecond() {
    var error =
        assertThrows(IllegalArgumentException.class, () -> Trigger.of(0L, null, null, null));

    assertEquals("every must be at least 1 second, got 0", error.getMessage());
  }

  @Test
  void ofRefusesAnAtWithoutAnOffset() {
    var error =
        assertThrows(
            IllegalArgumentException.class,
            () -> Trigger.of(null, null, null, "2027-01-01T09:00:00"));

    assertEquals(
        "at must be an ISO-8601 date-time with an offset, like 2027-01-01T09:00:00+01:00,"
            + " got '2027-01-01T09:00:00'",
        error.getMessage());
  }

  @Test
  void ofRefusesATimezoneWithoutCron() {
    var error =
        assertThrows(IllegalArgumentException.class, () -> Trigger.of(10L, null, BERLIN, null));

    assertEquals("timezone goes with cron only", error.getMessage());
  }

  @Test
  void ofPassesOnTheCronExpressionsOwnErrorForA400Answer() {
    var error =
        assertThrows(
            IllegalArgumentException.class, () -> Trigger.of(null, "0 24 * * *", null, null));

    assertEquals("cron field 'hour' has 24, allowed 0-23", error.getMessage());
  }
}
