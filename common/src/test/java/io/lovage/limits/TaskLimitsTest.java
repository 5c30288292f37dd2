package io.lovage.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.ConcurrencyLimit;
import io.lovage.RateLimit;
import io.lovage.protocol.Json;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TaskLimitsTest {
  private static final Instant AT = Instant.parse("2026-12-01T10:00:00Z");

  @Test
  void limitsGoToJsonAndBackAsTheyWere() {
    TaskLimits limits = new TaskLimits("billing.sms", RateLimit.parse("50/s"), null, AT);
    assertEquals(
        "{\"task\":\"billing.sms\",\"rate\":\"50/s\",\"scope\":\"worker\",\"concurrency\":null,"
            + "\"concurrencyKey\":null,\"at\":\"2026-12-01T10:00:00Z\"}",
        Json.MAPPER.writeValueAsString(limits.toJson()));
    assertEquals(limits, TaskLimits.fromJson(limits.toJson()));
    TaskLimits none = new TaskLimits("billing.sms", null, null, AT);
    assertEquals(none, TaskLimits.fromJson(none.toJson()));
    assertTrue(none.toJson().get("rate").isNull());
    TaskLimits unlimited = new TaskLimits("billing.sms", RateLimit.NONE, null, AT);
    assertEquals(unlimited, TaskLimits.fromJson(unlimited.toJson()));
  }

  @Test
  void aChangeReplacesTheFieldsItGivesRemovesThoseItSetsToNullAndKeepsTheRest() {
    TaskLimits limits = TaskLimits.of("t").withRate(RateLimit.parse("10/m"));
    assertEquals(RateLimit.parse("1/h"), limits.patched(json("{\"rate\": \"1/h\"}")).rate());
    assertEquals(limits, limits.patched(json("{}")));
    assertEquals(limits, limits.patched(json("{\"scope\": \"worker\"}")));
    assertEquals(
        RateLimit.parse("10/m").global(), limits.patched(json("{\"scope\": \"global\"}")).rate());
    assertNull(limits.patched(json("{\"rate\": null}")).rate());
    assertEquals(RateLimit.NONE, limits.patched(json("{\"rate\": \"0\"}")).rate());
    assertEquals(RateLimit.parse("2/s"), limits.patched(json("{\"rate\": 2}")).rate());
    assertEquals(limits, limits.patched(json("{\"concurrency\": null}")));
  }

  @Test
  void aGlobalScopeGoesWithTheRateAndARateChangedAloneKeepsItsScope() {
    TaskLimits global =
        TaskLimits.of("t").patched(json("{\"rate\": \"50/s\", \"scope\": \"global\"}"));
    assertEquals(RateLimit.parse("50/s").global(), global.rate());
    assertEquals("global", global.toJson().path("scope").asString());
    assertEquals(global, TaskLimits.fromJson(global.toJson()));
    assertEquals(
        RateLimit.parse("10/s").global(), global.patched(json("{\"rate\": \"10/s\"}")).rate());
    assertEquals(RateLimit.parse("50/s"), global.patched(json("{\"scope\": \"worker\"}")).rate());
  }

  @Test
  void aConcurrencyWithItsKeyIsSetChangedAndRemovedAndGoesToJsonAndBack() {
    TaskLimits limits =
        TaskLimits.of("billing.charge")
            .patched(json("{\"concurrency\": 2, \"concurrencyKey\": \"customer_id\"}"));
    assertEquals(ConcurrencyLimit.perKey(2, "customer_id"), limits.concurrency());
    assertEquals(limits, TaskLimits.fromJson(limits.toJson()));
    assertEquals(2, limits.toJson().path("concurrency").asInt());
    assertEquals(
        ConcurrencyLimit.perKey(5, "customer_id"),
        limits.patched(json("{\"concurrency\": 5}")).concurrency(),
        "the key kept");
    assertEquals(
        ConcurrencyLimit.of(2),
        limits.patched(json("{\"concurrencyKey\": null}")).concurrency(),
        "one limit per task");
    assertNull(limits.patched(json("{\"concurrency\": null}")).concurrency());
    assertEquals(
        limits.concurrency(),
        limits.patched(json("{\"rate\": \"1/s\"}")).concurrency(),
        "kept when left out");
  }

  @Test
  void aBadRateAnUnknownFieldABadConcurrencyAndAKeyAloneAreRefusedNamingTheField() {
    TaskLimits limits = TaskLimits.of("t");
    assertEquals("rate", invalid(limits, "{\"rate\": \"10/d\"}").field());
    assertEquals("rate", invalid(limits, "{\"rate\": true}").field());
    assertEquals("scope", invalid(limits, "{\"scope\": \"global\"}").field());
    assertTrue(invalid(limits, "{\"scope\": \"global\"}").getMessage().contains("give 'rate'"));
    assertEquals("scope", invalid(limits, "{\"scope\": \"cluster\"}").field());
    assertEquals("concurrency", invalid(limits, "{\"concurrency\": -1}").field());
    assertEquals("concurrency", invalid(limits, "{\"concurrency\": \"2\"}").field());
    assertEquals("concurrency", invalid(limits, "{\"concurrency\": 1.5}").field());
    assertEquals("concurrencyKey", invalid(limits, "{\"concurrencyKey\": \"c\"}").field());
    assertEquals(
        "concurrencyKey",
        invalid(limits, "{\"concurrency\": 2, \"concurrencyKey\": \"a b\"}").field());
    assertEquals("burst", invalid(limits, "{\"burst\": 3}").field());
    assertEquals("", invalid(limits, "[1]").field());
  }

  private static TaskLimits.Invalid invalid(TaskLimits limits, String body) {
    return assertThrows(TaskLimits.Invalid.class, () -> limits.patched(json(body)));
  }

  private static tools.jackson.databind.JsonNode json(String text) {
    return Json.MAPPER.readTree(text);
  }
}
