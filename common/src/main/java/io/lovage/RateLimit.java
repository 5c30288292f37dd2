package io.lovage;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Objects;

/**
 * How many tasks of one name may start per second, minute or hour, written as Celery writes it:
 * {@code "10/s"}, {@code "100/m"}, {@code "1000/h"}; a bare number is per second, and {@code "0"}
 * or an empty string is no limit (Celery's {@code celery.utils.time.rate}).
 *
 * <p>The {@link Scope} says who shares the limit: {@link Scope#WORKER}, Celery's meaning, where
 * each worker enforces the limit by itself, so N workers together start up to N times as many
 * tasks; or {@link Scope#GLOBAL}, one limit for the whole fleet, whatever the number of workers.
 *
 * <pre>{@code
 * RateLimit perWorker = RateLimit.parse("100/m");
 * RateLimit sms = RateLimit.parse("50/s").global();   // 50 a second across every worker
 * }</pre>
 *
 * @param tasks tasks per {@code per}, or 0 for no limit
 * @param per the unit of time the count is for
 * @param scope who shares the limit
 */
public record RateLimit(double tasks, Per per, Scope scope) {

  /** No limit: tasks start as soon as a pool has room. */
  public static final RateLimit NONE = new RateLimit(0, Per.SECOND, Scope.WORKER);

  /** The unit of a rate, with Celery's suffix. */
  public enum Per {
    SECOND("s", 1),
    MINUTE("m", 60),
    HOUR("h", 3600);

    private final String suffix;
    private final int seconds;

    Per(String suffix, int seconds) {
      this.suffix = suffix;
      this.seconds = seconds;
    }

    /** Celery's suffix: {@code s}, {@code m} or {@code h}. */
    public String suffix() {
      return suffix;
    }
  }

  /**
   * Who shares a limit. {@code WORKER}: each worker counts its own starts, as Celery's workers do
   * (and as {@code celery control rate_limit} sets it). {@code GLOBAL}: every worker of the fleet
   * takes a token from one RabbitMQ queue per task before starting it, and the workers refill it
   * together at the limit's rate.
   */
  public enum Scope {
    WORKER,
    GLOBAL;

    /** As written in JSON and settings: {@code worker} or {@code global}. */
    public String wire() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public RateLimit {
    Objects.requireNonNull(per, "per");
    Objects.requireNonNull(scope, "scope");
    if (!Double.isFinite(tasks) || tasks < 0) {
      throw new IllegalArgumentException(
          "a rate limit needs a finite number of tasks >= 0, got " + tasks);
    }
  }

  /**
   * A rate as Celery writes it: {@code "10/s"}, {@code "100/m"}, {@code "1000/h"}, {@code "0.5"}
   * (per second); null, blank or zero is {@link #NONE}.
   *
   * @throws IllegalArgumentException naming the value, for anything else (a negative number, an
   *     unknown unit such as {@code "10/d"}, text)
   */
  public static RateLimit parse(String text) {
    if (text == null || text.isBlank()) {
      return NONE;
    }
    String value = text.trim();
    int slash = value.indexOf('/');
    String count = slash < 0 ? value : value.substring(0, slash).trim();
    String unit = slash < 0 ? "s" : value.substring(slash + 1).trim();
    Per per = null;
    for (Per candidate : Per.values()) {
      if (candidate.suffix.equals(unit)) {
        per = candidate;
      }
    }
    double tasks;
    try {
      tasks = per == null ? -1 : Double.parseDouble(count);
    } catch (NumberFormatException e) {
      tasks = -1;
    }
    // Double.parseDouble also reads "NaN", "Infinity" and "1f": none is a rate.
    if (per == null || !Double.isFinite(tasks) || tasks < 0 || !count.matches("[0-9.eE+-]+")) {
      throw new IllegalArgumentException(
          "invalid rate limit '"
              + text
              + "': expected tasks per second, minute or hour as Celery writes them, e.g."
              + " \"10/s\", \"100/m\", \"1000/h\" (a bare number is per second; \"0\" or empty:"
              + " no limit)");
    }
    return tasks == 0 ? NONE : new RateLimit(tasks, per, Scope.WORKER);
  }

  /** A limit of {@code tasks} per second on each worker. */
  public static RateLimit perSecond(double tasks) {
    return tasks == 0 ? NONE : new RateLimit(tasks, Per.SECOND, Scope.WORKER);
  }

  /** This rate for the whole fleet ({@link Scope#GLOBAL}); {@link #NONE} stays none. */
  public RateLimit global() {
    return withScope(Scope.GLOBAL);
  }

  /** This rate shared by {@code scope}; {@link #NONE} stays none. */
  public RateLimit withScope(Scope scope) {
    return isLimited() ? new RateLimit(tasks, per, scope) : NONE;
  }

  /**
   * How many tasks one token message of a global limit lets start: a fiftieth of a second's worth,
   * at least 1 (so up to 100/s each message is one task, and at 10,000/s it is 200).
   */
  public int tokensPerMessage() {
    return (int) Math.max(1, Math.floor(perSecond() / 50));
  }

  /** Whether it is one limit for the whole fleet. */
  public boolean isGlobal() {
    return scope == Scope.GLOBAL;
  }

  /** Whether this limits anything: false for {@link #NONE} (0 tasks). */
  public boolean isLimited() {
    return tasks > 0;
  }

  /** Tasks per second: the rate at which the task's bucket (or shared token queue) fills. */
  public double perSecond() {
    return tasks / per.seconds;
  }

  /**
   * As Celery writes it: {@code "10/s"}, {@code "0.5/m"}; {@code "0"} for no limit. The scope is
   * not part of it.
   */
  @Override
  public String toString() {
    if (!isLimited()) {
      return "0";
    }
    return BigDecimal.valueOf(tasks).stripTrailingZeros().toPlainString().toLowerCase(Locale.ROOT)
        + "/"
        + per.suffix;
  }
}
