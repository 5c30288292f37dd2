package io.lovage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RateLimitTest {

  @Test
  void ratesReadAsCeleryReadsThemPerSecondMinuteOrHour() {
    assertEquals(10, RateLimit.parse("10/s").perSecond(), 1e-12);
    assertEquals(100 / 60.0, RateLimit.parse("100/m").perSecond(), 1e-12);
    assertEquals(1000 / 3600.0, RateLimit.parse("1000/h").perSecond(), 1e-12);
    assertEquals(0.5, RateLimit.parse("0.5/s").perSecond(), 1e-12);
    assertEquals(RateLimit.Per.MINUTE, RateLimit.parse(" 100/m ").per());
    assertEquals(RateLimit.Scope.WORKER, RateLimit.parse("10/s").scope());
  }

  @Test
  void aBareNumberIsPerSecondAsInCelery() {
    assertEquals(
        new RateLimit(5, RateLimit.Per.SECOND, RateLimit.Scope.WORKER), RateLimit.parse("5"));
    assertEquals(RateLimit.parse("5/s"), RateLimit.parse("5"));
  }

  @Test
  void zeroEmptyOrNullIsNoLimit() {
    for (String none : new String[] {null, "", "  ", "0", "0/m", "0.0/h"}) {
      RateLimit limit = RateLimit.parse(none);
      assertSame(RateLimit.NONE, limit, String.valueOf(none));
      assertFalse(limit.isLimited());
    }
    assertSame(RateLimit.NONE, RateLimit.perSecond(0));
  }

  @Test
  void anInvalidRateFailsWithAnErrorThatNamesTheValue() {
    for (String bad :
        List.of("fast", "10/d", "10/sec", "-5/s", "/s", "10/", "NaN", "Infinity/s", "1f")) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> RateLimit.parse(bad), bad);
      assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
      assertTrue(e.getMessage().contains("\"100/m\""), e.getMessage());
    }
  }

  @Test
  void aRateIsWrittenBackAsCeleryWritesIt() {
    assertEquals("10/s", RateLimit.parse("10/s").toString());
    assertEquals("10/s", RateLimit.parse("10").toString());
    assertEquals("0.5/m", RateLimit.parse("0.5/m").toString());
    assertEquals("1000/h", RateLimit.parse("1e3/h").toString());
    assertEquals("0", RateLimit.NONE.toString());
  }

  @Test
  void aNegativeOrInfiniteCountIsNoRate() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new RateLimit(-1, RateLimit.Per.SECOND, RateLimit.Scope.WORKER));
    assertThrows(IllegalArgumentException.class, () -> RateLimit.perSecond(Double.NaN));
  }

  @Test
  void aTokenMessageOfAGlobalLimitCarriesAFiftiethOfASecondsTasks() {
    assertEquals(1, RateLimit.parse("50/s").global().tokensPerMessage());
    assertEquals(1, RateLimit.parse("10/m").global().tokensPerMessage());
    assertEquals(200, RateLimit.parse("10000/s").global().tokensPerMessage());
  }
}
