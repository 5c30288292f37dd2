package io.lovage.producer;

import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Context;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the management API for the queues every {@link QueueDepths#INTERVAL} and keeps their depth
 * in {@link QueueDepths}, from the start, so the overview's chart has a history when it is opened.
 */
@Context
@Bean(preDestroy = "close")
final class QueueDepthSampler implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(QueueDepthSampler.class);

  private final QueueDepths depths = new QueueDepths();
  private final RabbitManagement management;
  private final Clock clock = Clock.systemUTC();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("lovage-queue-depths").daemon().factory());
  private volatile boolean warned;

  QueueDepthSampler(RabbitManagement management) {
    this.management = management;
    long every = QueueDepths.INTERVAL.toMillis();
    timer.scheduleWithFixedDelay(this::sample, 0, every, TimeUnit.MILLISECONDS);
  }

  QueueDepths depths() {
    return depths;
  }

  private void sample() {
    try {
      depths.add(clock.instant(), management.queues());
      warned = false;
    } catch (RabbitManagement.Unavailable | RuntimeException e) {
      // Once per outage: the overview says so itself when it is open.
      if (!warned) {
        warned = true;
        log.warn("queue depths not sampled: management API unavailable error={}", e.getMessage());
      }
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
