package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskOptions;
import io.lovage.TaskRegistry.TaskDefinition;
import io.lovage.TimeLimits;
import io.lovage.protocol.Json;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class TimeLimitOverridesTest {
  private static final TaskDefinition LABEL =
      new TaskDefinition(
          "label",
          call -> "done",
          TaskOptions.DEFAULT.withTimeLimits(TimeLimits.of(null, Duration.ofSeconds(30))));
  private static final TaskDefinition OTHER =
      new TaskDefinition("other", call -> "done", TaskOptions.DEFAULT);

  private final TimeLimitOverrides overrides = new TimeLimitOverrides();

  @Test
  void limitsSetForATaskReplaceItsOwnAndLeaveOtherTasksAlone() {
    overrides.set("label", TimeLimits.of(Duration.ofSeconds(1), null));

    assertEquals(
        TimeLimits.of(Duration.ofSeconds(1), null),
        overrides.applyTo(LABEL).options().timeLimits());
    assertEquals(LABEL.task(), overrides.applyTo(LABEL).task());
    assertSame(OTHER, overrides.applyTo(OTHER));
  }

  @Test
  void secondsAreCelerysNumbersWithZeroOrNullForNone() {
    assertEquals(
        TimeLimits.of(Duration.ofMillis(1500), Duration.ofSeconds(3)),
        TimeLimitOverrides.fromSeconds(number("1.5"), number("3")));
    assertEquals(
        TimeLimits.of(null, null), TimeLimitOverrides.fromSeconds(number("0"), number("null")));
    assertEquals(
        TimeLimits.of(Duration.ofSeconds(2), null),
        TimeLimitOverrides.fromSeconds(number("2"), Json.MAPPER.missingNode()));
  }

  @Test
  void aHardLimitAboveTheDefaultIsRefusedToStayBelowRabbitMqsConsumerTimeout() {
    long justAbove = TimeLimits.DEFAULT_HARD.toSeconds() + 1;

    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> TimeLimitOverrides.fromSeconds(number("null"), number("" + justAbove)));

    assertTrue(refused.getMessage().contains("consumer_timeout"), refused.getMessage());
    TimeLimitOverrides.fromSeconds(
        number("null"), number("" + TimeLimits.DEFAULT_HARD.toSeconds()));
  }

  @Test
  void aSoftLimitNotBelowTheHardOneAndValuesThatAreNotSecondsAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> TimeLimitOverrides.fromSeconds(number("5"), number("5")));
    assertThrows(
        IllegalArgumentException.class,
        () -> TimeLimitOverrides.fromSeconds(number("1600"), number("null")));
    for (String bad : new String[] {"-1", "\"10\"", "true", "[1]"}) {
      assertThrows(
          IllegalArgumentException.class,
          () -> TimeLimitOverrides.fromSeconds(number(bad), number("null")),
          bad);
    }
  }

  private static JsonNode number(String json) {
    return Json.MAPPER.readTree(json);
  }
}
