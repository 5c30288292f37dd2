package io.lovage;

/**
 * How many of a task's runs may be running at once across all workers: per task name, or per value
 * of one of its arguments (a customer id), declared when the task is registered. Unlike a {@link
 * RateLimit}, which each worker keeps by itself, this limit is kept by RabbitMQ: permits are
 * messages a worker holds unacknowledged while the task runs (see docs/worker.md, "Concurrency
 * limits").
 *
 * <pre>{@code
 * TaskOptions.DEFAULT.withConcurrency(ConcurrencyLimit.of(5))                  // 5 at once in all
 * TaskOptions.DEFAULT.withConcurrency(ConcurrencyLimit.perKey(2, "customer_id")) // 2 per customer
 * }</pre>
 *
 * @param permits how many may run at once; 0 for no limit
 * @param key the argument whose value each limit is kept for: a kwarg of that name, or else the
 *     positional argument at {@code position}; empty for one limit per task name
 * @param position where the key argument stands among the positional arguments, or -1 when it is
 *     read from kwargs only (a {@link TaskHandler} method fills it from its parameter names)
 */
public record ConcurrencyLimit(int permits, String key, int position) {
  public static final ConcurrencyLimit NONE = new ConcurrencyLimit(0, "", -1);

  public ConcurrencyLimit {
    if (permits < 0) {
      throw new IllegalArgumentException("concurrency must be 0 (none) or more, got " + permits);
    }
    key = key == null ? "" : key;
  }

  /** At most {@code permits} of the task at once, whatever its arguments. */
  public static ConcurrencyLimit of(int permits) {
    return new ConcurrencyLimit(permits, "", -1);
  }

  /** At most {@code permits} at once per value of the kwarg {@code key}. */
  public static ConcurrencyLimit perKey(int permits, String key) {
    return new ConcurrencyLimit(permits, key, -1);
  }

  /** The same limit, its key also read from the positional argument at {@code index}. */
  public ConcurrencyLimit atPosition(int index) {
    return new ConcurrencyLimit(permits, key, index);
  }

  public boolean isLimited() {
    return permits > 0;
  }

  /** Whether each value of an argument has its own limit. */
  public boolean isPerKey() {
    return !key.isEmpty();
  }

  /**
   * As docs/worker.md and {@code LOVAGE_CONCURRENCY_LIMITS} write it: {@code 2}, or {@code
   * 2:customer_id}.
   */
  @Override
  public String toString() {
    return isPerKey() ? permits + ":" + key : String.valueOf(permits);
  }

  /** Reads {@code 2} or {@code 2:customer_id}; {@code 0} for none. */
  public static ConcurrencyLimit parse(String text) {
    String trimmed = text == null ? "" : text.trim();
    int colon = trimmed.indexOf(':');
    String count = colon < 0 ? trimmed : trimmed.substring(0, colon).trim();
    try {
      int permits = count.isEmpty() ? 0 : Integer.parseInt(count);
      return new ConcurrencyLimit(
          permits, colon < 0 ? "" : trimmed.substring(colon + 1).trim(), -1);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "invalid concurrency limit '" + text + "': expected N or N:argument", e);
    }
  }
}
