package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.ConcurrencyLimit;
import io.lovage.RateLimit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerSettingsTest {

  @Test
  void rateLimitsReadAsTaskEqualsRateSeparatedByCommasGlobalWithAnAtGlobalSuffix() {
    Map<String, RateLimit> limits =
        WorkerSettings.parseRateLimits(
            " billing.sms=50/s, reports.build = 10/m,demo.add=0 ,mail.send=5/s@global");

    assertEquals(
        List.of("billing.sms", "reports.build", "demo.add", "mail.send"),
        List.copyOf(limits.keySet()));
    assertEquals(RateLimit.parse("5/s").global(), limits.get("mail.send"), "one for the fleet");
    assertEquals(RateLimit.parse("50/s"), limits.get("billing.sms"));
    assertEquals(RateLimit.parse("10/m"), limits.get("reports.build"));
    assertEquals(RateLimit.NONE, limits.get("demo.add"), "=0 lifts a registered limit");
    assertEquals(Map.of(), WorkerSettings.parseRateLimits(""));
  }

  @Test
  void concurrencyLimitsReadAsTaskEqualsCountWithAnOptionalKeyArgument() {
    Map<String, ConcurrencyLimit> limits =
        WorkerSettings.parseConcurrencyLimits(
            " billing.charge=2:customer_id, reports.build = 1,demo.add=0 ,");

    assertEquals(ConcurrencyLimit.perKey(2, "customer_id"), limits.get("billing.charge"));
    assertEquals(ConcurrencyLimit.of(1), limits.get("reports.build"));
    assertEquals(ConcurrencyLimit.NONE, limits.get("demo.add"), "=0 lifts a registered limit");
    assertEquals(Map.of(), WorkerSettings.parseConcurrencyLimits(""));
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class,
            () -> WorkerSettings.parseConcurrencyLimits("billing.charge=two:customer_id"));
    assertTrue(
        bad.getMessage().contains("LOVAGE_CONCURRENCY_LIMITS")
            && bad.getMessage().contains("billing.charge"),
        bad.getMessage());
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
