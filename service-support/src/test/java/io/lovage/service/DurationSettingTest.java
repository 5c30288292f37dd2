package io.lovage.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationSettingTest {
  private static final Duration FALLBACK = Duration.ofSeconds(7);

  @Test
  void plainNumbersAreSecondsAsInCelerysSettings() {
    assertEquals(Duration.ofSeconds(30), DurationSetting.parse("X", "30", FALLBACK));
    assertEquals(Duration.ofMillis(2500), DurationSetting.parse("X", "2.5s", FALLBACK));
  }

  @Test
  void minutesHoursDaysAndIsoDurationsAreUnderstood() {
    assertEquals(Duration.ofMinutes(10), DurationSetting.parse("X", "10m", FALLBACK));
    assertEquals(Duration.ofHours(24), DurationSetting.parse("X", "24h", FALLBACK));
    assertEquals(Duration.ofDays(7), DurationSetting.parse("X", "7D", FALLBACK));
    assertEquals(Duration.ofMinutes(90), DurationSetting.parse("X", "PT1H30M", FALLBACK));
  }

  @Test
  void aBlankSettingGivesTheDefault() {
    assertEquals(FALLBACK, DurationSetting.parse("X", " ", FALLBACK));
  }

  @Test
  void aMalformedSettingIsAnErrorThatNamesIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DurationSetting.parse("LOVAGE_RESULT_EXPIRES", "a day", FALLBACK));
    assertTrue(e.getMessage().contains("LOVAGE_RESULT_EXPIRES"), e.getMessage());
  }
}
