package io.lovage.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BlastTest {
  @Test
  void pollsSparselyWhileTheEndIsFarAndFinelyNearIt() {
    // 1,000 of 20,000 done in 500 ms: 9.5 s left, so the coarse poll.
    assertEquals(Blast.COARSE_POLL_MILLIS, Blast.nextPollMillis(1_000, 20_000, 500));
    // 19,900 of 20,000 done in 4 s: 20 ms left, so the fine poll.
    assertEquals(Blast.FINE_POLL_MILLIS, Blast.nextPollMillis(19_900, 20_000, 4_000));
    // 19,000 of 20,000 in 4 s: about 210 ms left, so half of that.
    assertEquals(105, Blast.nextPollMillis(19_000, 20_000, 4_000));
  }

  @Test
  void pollsEvery100MillisecondsBeforeTheFirstTaskIsDone() {
    assertEquals(100, Blast.nextPollMillis(0, 20_000, 300));
  }
}
