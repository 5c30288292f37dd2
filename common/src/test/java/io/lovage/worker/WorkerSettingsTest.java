package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.RateLimit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerSettingsTest {

  @Test
  void rateLimitsReadAsTaskEqualsRateSeparatedByCommas() {
    Map<String, RateLimit> limits =
        WorkerSettings.parseRateLimits(" billing.sms=50/s, reports.build = 10/m,demo.add=0 ,");

    assertEquals(List.of("billing.sms", "reports.build", "demo.add"), List.copyOf(limits.keySet()));
    assertEquals(RateLimit.parse("50/s"), limits.get("billing.sms"));
    assertEquals(RateLimit.parse("10/m"), limits.get("reports.build"));
    assertEquals(RateLimit.NONE, limits.get("demo.add"), "=0 lifts a registered limit");
    assertEquals(Map.of(), WorkerSettings.parseRateLimits(""));
  }

  @Test
  void aRateLimitEntryThatIsNotTaskEqualsRateFailsNamingTheEntry() {
    IllegalArgumentException noTask =
        assertThrows(IllegalArgumentException.class, () -> WorkerSettings.parseRateLimits("50/s"));
    IllegalArgumentException badRate =
        assertThrows(
            IllegalArgumentException.class,
            () -> WorkerSettings.parseRateLimits("billing.sms=50/x"));

    assertTrue(
        noTask.getMessage().contains("LOVAGE_RATE_LIMITS")
            && noTask.getMessage().contains("'50/s'"),
        noTask.getMessage());
    assertTrue(
        badRate.getMessage().contains("billing.sms") && badRate.getMessage().contains("'50/x'"),
        badRate.getMessage());
  }

  @Test
  void settingsWithoutRateLimitsHaveNoneAndWithRateLimitsKeepThem() {
    WorkerSettings settings = WorkerSettings.of(List.of("celery"), 4);

    assertEquals(Map.of(), settings.rateLimits());
    assertEquals(
        RateLimit.parse("1/s"),
        settings.withRateLimits(Map.of("a", RateLimit.parse("1/s"))).rateLimits().get("a"));
  }
}
