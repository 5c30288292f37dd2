package io.lovage.bench;

import io.lovage.schedule.Schedule;
import io.lovage.schedule.Scheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The runs some {@code every: N} schedules owe in a window of scheduled times, each known by the
 * task id every scheduler gives it ({@link Scheduler#runId}), and when each actually started: so a
 * run that never started, or started twice, is seen as well as how late the others were.
 */
final class ScheduledRuns {
  private final Map<String, Instant> scheduled;
  private final Map<String, Instant> started = new ConcurrentHashMap<>();
  private final Map<String, Instant> sent = new ConcurrentHashMap<>();
  private final Set<String> twice = ConcurrentHashMap.newKeySet();

  private ScheduledRuns(Map<String, Instant> scheduled) {
    this.scheduled = Map.copyOf(scheduled);
  }

  /**
   * Every run of each of {@code names}, {@code every: seconds}, scheduled at or after {@code from}
   * and before {@code until}.
   */
  static ScheduledRuns of(List<String> names, long seconds, Instant from, Instant until) {
    List<Instant> ticks = ticks(seconds, from, until);
    Map<String, Instant> scheduled = new HashMap<>();
    for (String name : names) {
      for (Instant tick : ticks) {
        scheduled.put(Scheduler.runId(name, tick), tick);
      }
    }
    return new ScheduledRuns(scheduled);
  }

  /** When {@code every: seconds} runs, at or after {@code from} and before {@code until}. */
  static List<Instant> ticks(long seconds, Instant from, Instant until) {
    List<Instant> ticks = new ArrayList<>();
    Instant tick = tickAfter(seconds, from.minusNanos(1));
    while (tick.isBefore(until)) {
      ticks.add(tick);
      tick = tickAfter(seconds, tick);
    }
    return ticks;
  }

  /**
   * The first run of {@code every: seconds} after {@code instant}, as the scheduler computes it.
   */
  static Instant tickAfter(long seconds, Instant instant) {
    return Schedule.When.every(seconds).trigger().next(instant).orElseThrow();
  }

  /**
   * A task's start, as its task-started event says; tasks that are not one of these runs are
   * ignored. The same start reported again (by later events of the task) is not a second start.
   */
  void started(String taskId, Instant at) {
    if (!scheduled.containsKey(taskId)) {
      return;
    }
    Instant first = started.putIfAbsent(taskId, at);
    if (first != null && !first.equals(at)) {
      twice.add(taskId);
    }
  }

  /** When the scheduler's client had a run's publish confirmed, as its task-sent event says. */
  void sent(String taskId, Instant at) {
    if (scheduled.containsKey(taskId)) {
      sent.putIfAbsent(taskId, at);
    }
  }

  int expected() {
    return scheduled.size();
  }

  int seen() {
    return started.size();
  }

  /**
   * What the runs so far add up to.
   *
   * @param expected runs the schedules owe in the window
   * @param seen of those, runs that started
   * @param twice of those, runs that started more than once
   * @param lateMillis each seen run's first start minus its scheduled time, sorted
   */
  record Tally(int expected, int seen, int twice, List<Double> lateMillis) {
    int missed() {
      return expected - seen;
    }
  }

  /**
   * Each round's lateness in ms (its runs' first start, or with {@code sent} their confirmed
   * publish, minus the round's time; sorted), by the round's time: a scheduler's first rounds after
   * it starts are slower, while the JIT compiles.
   */
  SortedMap<Instant, List<Double>> lateByRound(boolean sent) {
    SortedMap<Instant, List<Double>> rounds = new TreeMap<>();
    (sent ? this.sent : started)
        .forEach(
            (id, at) -> {
              Instant due = scheduled.get(id);
              rounds.computeIfAbsent(due, d -> new ArrayList<>()).add(millisLate(due, at));
            });
    rounds.values().forEach(late -> late.sort(Double::compare));
    return rounds;
  }

  private static double millisLate(Instant due, Instant at) {
    return Duration.between(due, at).toNanos() / 1e6;
  }

  Tally tally() {
    return tally(Instant.MIN, Instant.MAX);
  }

  /** What the runs scheduled at or after {@code from} and before {@code until} add up to. */
  Tally tally(Instant from, Instant until) {
    int expected = 0;
    int twiceThere = 0;
    List<Double> late = new ArrayList<>();
    for (Map.Entry<String, Instant> run : scheduled.entrySet()) {
      Instant due = run.getValue();
      if (due.isBefore(from) || !due.isBefore(until)) {
        continue;
      }
      expected++;
      Instant at = started.get(run.getKey());
      if (at != null) {
        late.add(millisLate(due, at));
      }
      if (twice.contains(run.getKey())) {
        twiceThere++;
      }
    }
    late.sort(Double::compare);
    return new Tally(expected, late.size(), twiceThere, List.copyOf(late));
  }
}
