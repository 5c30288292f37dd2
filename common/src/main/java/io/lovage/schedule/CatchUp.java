package io.lovage.schedule;

import java.util.Locale;

/**
 * What a scheduler does with runs that fell due while no scheduler ran (longer ago than {@link
 * Scheduler#MISFIRE_GRACE}): runs due within that grace, e.g. during a leader's failover, are
 * always sent, each once.
 */
public enum CatchUp {
  /** Send the latest missed run once, as celery beat does. */
  ONCE,
  /** Send none; the next run is the next one due. */
  SKIP,
  /** Send every missed run, at most {@link Scheduler#MAX_CATCH_UP} (the latest ones). */
  ALL;

  public static CatchUp parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "field 'catchUp' must be once, skip or all, got '" + text + "'");
    }
  }
}
