package io.lovage.unique;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.lovage.broker.InMemoryBroker;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The lock's protocol on the in-memory broker; UniqueLocksIT proves it on RabbitMQ. */
class UniqueLocksTest {
  private final InMemoryBroker broker = new InMemoryBroker();
  private final UniqueLocks locks = new UniqueLocks(broker);

  @Test
  void theFirstClaimTakesTheLockAndLaterOnesFindItsHolder() {
    assertInstanceOf(UniqueLocks.Claim.Taken.class, locks.claim("k", "t1", Duration.ofMinutes(1)));

    UniqueLocks.Claim second = locks.claim("k", "t2", Duration.ofMinutes(1));

    assertInstanceOf(UniqueLocks.Claim.Held.class, second);
    assertEquals("t1", second.id());
    assertEquals(1, broker.ready(UniqueLocks.lockQueue("k")));
    assertEquals(1, broker.ready(UniqueLocks.idQueue("k")));
  }

  @Test
  void releasingFreesTheLockForTheNextClaim() {
    locks.claim("k", "t1", Duration.ofMinutes(1));

    locks.release("k", "t1");

    assertEquals(Optional.empty(), locks.holder("k"));
    assertEquals(new UniqueLocks.Claim.Taken("t2"), locks.claim("k", "t2", Duration.ofMinutes(1)));
  }

  @Test
  void aTaskThatNoLongerHoldsTheLockLeavesItAlone() {
    locks.claim("k", "t2", Duration.ofMinutes(1));

    locks.release("k", "t1");

    assertEquals(Optional.of("t2"), locks.holder("k"));
    assertEquals(1, broker.ready(UniqueLocks.lockQueue("k")));
  }

  @Test
  void aReleaseWhileALoserReadsWhoHoldsTheLockStillFreesIt() throws Exception {
    locks.claim("k", "t1", Duration.ofMinutes(1));
    // A loser's holder() has taken the id and puts it back a moment later.
    io.lovage.broker.Delivery reading = broker.get(UniqueLocks.idQueue("k")).orElseThrow();
    Thread putBack =
        Thread.ofVirtual()
            .start(
                () -> {
                  java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
                  reading.requeue();
                });

    locks.release("k", "t1");
    putBack.join();

    assertEquals(Optional.empty(), locks.holder("k"));
    assertEquals(new UniqueLocks.Claim.Taken("t2"), locks.claim("k", "t2", Duration.ofMinutes(1)));
  }
}
