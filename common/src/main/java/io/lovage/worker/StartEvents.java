package io.lovage.worker;

import io.lovage.protocol.TaskMessage;
import io.lovage.result.TaskEvents;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The task-received and task-started events of one task, sent once it has run for {@link
 * Worker#START_EVENTS_AFTER}. A task over sooner never sends them: its outcome event carries when
 * it was received and started ({@link TaskEvents.Start}). Most tasks of a busy worker are short,
 * and each of them then costs the event stream one event instead of three; a long task still shows
 * STARTED within a tenth of a second, stamped with the moment it really started.
 */
final class StartEvents {
  private final TaskEvents events;
  private final TaskMessage message;
  private final String queue;
  private final Instant received;
  private final Clock clock;
  private final ScheduledExecutorService timer;
  private final Duration after;
  private Instant started;
  private ScheduledFuture<?> due;
  private boolean reported;
  private boolean over;

  StartEvents(
      TaskEvents events,
      TaskMessage message,
      String queue,
      Clock clock,
      ScheduledExecutorService timer,
      Duration after) {
    this.events = events;
    this.message = message;
    this.queue = queue;
    this.clock = clock;
    this.received = clock.instant();
    this.timer = timer;
    this.after = after;
  }

  /** The task starts now: its start events are due after the delay. */
  synchronized void started() {
    started = clock.instant();
    if (after.isZero()) {
      report();
    } else if (!over) {
      try {
        due = timer.schedule(this::report, after.toNanos(), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException stopping) {
        report();
      }
    }
  }

  /** Sends the start events now if they were not sent: before progress, which means STARTED. */
  synchronized void report() {
    if (reported || over) {
      return;
    }
    reported = true;
    events.received(message, queue, received);
    if (started != null) {
      events.started(message, started);
    }
  }

  /**
   * The task is over: what its outcome event must carry, or null when its start events went out
   * already.
   */
  synchronized TaskEvents.Start finish() {
    over = true;
    if (due != null) {
      due.cancel(false);
    }
    return reported ? null : new TaskEvents.Start(queue, received, started);
  }
}
