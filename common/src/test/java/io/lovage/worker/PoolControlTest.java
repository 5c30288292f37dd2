package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.worker.process.ProcessPool.Bounds;
import org.junit.jupiter.api.Test;

/** How Celery's pool commands map onto a process pool's min and max, without a pool. */
class PoolControlTest {
  private static final int CEILING = 10;

  @Test
  void growRaisesTheFloorByNAndTheMaxOnlyAsFarAsNeeded() {
    assertEquals(new Bounds(3, 4), PoolControl.grown(new Bounds(1, 4), 2, CEILING));
    assertEquals(new Bounds(5, 5), PoolControl.grown(new Bounds(3, 4), 2, CEILING));
    assertEquals(new Bounds(1, 4), PoolControl.grown(new Bounds(1, 4), 0, CEILING));
  }

  @Test
  void growOfAFixedSizePoolGrowsBothBoundsAsCelerysPoolGrows() {
    assertEquals(new Bounds(6, 6), PoolControl.grown(new Bounds(4, 4), 2, CEILING));
  }

  @Test
  void shrinkLowersTheFloorOfAScalingPoolAndKeepsItsMax() {
    assertEquals(new Bounds(1, 4), PoolControl.shrunk(new Bounds(3, 4), 2, CEILING));
    assertEquals(new Bounds(0, 4), PoolControl.shrunk(new Bounds(1, 4), 5, CEILING));
  }

  @Test
  void shrinkOfAFixedSizePoolShrinksBothBoundsButKeepsAMaxOfOne() {
    assertEquals(new Bounds(2, 2), PoolControl.shrunk(new Bounds(4, 4), 2, CEILING));
    assertEquals(new Bounds(0, 1), PoolControl.shrunk(new Bounds(1, 1), 3, CEILING));
  }

  @Test
  void growThenShrinkByTheSameCountGivesTheBoundsBackToAFixedPoolOrOneWithRoomBelowItsMax() {
    for (Bounds start : new Bounds[] {new Bounds(1, 4), new Bounds(4, 4), new Bounds(0, 3)}) {
      assertEquals(
          start, PoolControl.shrunk(PoolControl.grown(start, 2, CEILING), 2, CEILING), "" + start);
    }
  }

  @Test
  void shrinkOfAPoolThatKeepsNoChildIsRefusedAndPointsToAutoscale() {
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class, () -> PoolControl.shrunk(new Bounds(0, 4), 1, CEILING));

    assertTrue(refused.getMessage().contains("autoscale"), refused.getMessage());
  }

  @Test
  void autoscaleSetsTheBoundsGivenAndLeavesTheOtherAsItWas() {
    assertEquals(new Bounds(2, 8), PoolControl.autoscaled(new Bounds(1, 4), 8, 2, CEILING));
    assertEquals(new Bounds(1, 6), PoolControl.autoscaled(new Bounds(1, 4), 6, null, CEILING));
    assertEquals(new Bounds(3, 4), PoolControl.autoscaled(new Bounds(1, 4), null, 3, CEILING));
    assertEquals(new Bounds(1, 4), PoolControl.autoscaled(new Bounds(1, 4), null, null, CEILING));
  }

  @Test
  void boundsWithMinAboveMaxOrMaxBelowOneOrAboveTheCeilingAreRefused() {
    Bounds bounds = new Bounds(1, 4);

    assertThrows(
        IllegalArgumentException.class, () -> PoolControl.autoscaled(bounds, 2, 3, CEILING));
    assertThrows(
        IllegalArgumentException.class, () -> PoolControl.autoscaled(bounds, null, 5, CEILING));
    assertThrows(
        IllegalArgumentException.class, () -> PoolControl.autoscaled(bounds, 0, 0, CEILING));
    IllegalArgumentException above =
        assertThrows(IllegalArgumentException.class, () -> PoolControl.grown(bounds, 10, CEILING));
    assertTrue(above.getMessage().contains("capacity of 10"), above.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> PoolControl.grown(bounds, Integer.MAX_VALUE, CEILING));
  }

  @Test
  void countsAreWholeNumbersFromZeroAndLeftOutIsNull() {
    assertEquals(2, PoolControl.wholeNumber(Json.MAPPER.readTree("{\"n\": 2}"), "n"));
    assertEquals(null, PoolControl.wholeNumber(Json.MAPPER.readTree("{}"), "n"));
    assertEquals(null, PoolControl.wholeNumber(Json.MAPPER.readTree("{\"n\": null}"), "n"));
    for (String bad : new String[] {"-1", "\"2\"", "1.5", "1e12", "true"}) {
      assertThrows(
          IllegalArgumentException.class,
          () -> PoolControl.wholeNumber(Json.MAPPER.readTree("{\"n\": " + bad + "}"), "n"),
          bad);
    }
  }
}
