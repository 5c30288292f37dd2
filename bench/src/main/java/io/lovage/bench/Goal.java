package io.lovage.bench;

/**
 * What a row should reach, printed beside the measured value; the bench never fails on it.
 *
 * @param text as printed, e.g. {@code ≥ 0.6}
 * @param bound the threshold, or NaN for no goal
 * @param higherIsBetter whether the value must be at least (true) or below (false) the bound
 */
record Goal(String text, double bound, boolean higherIsBetter) {
  static final Goal NONE = new Goal("", Double.NaN, true);

  static Goal atLeast(double bound, String text) {
    return new Goal(text, bound, true);
  }

  static Goal below(double bound, String text) {
    return new Goal(text, bound, false);
  }

  /** Null when there is no goal or no value to judge. */
  Boolean met(Double value) {
    if (Double.isNaN(bound) || value == null) {
      return null;
    }
    return higherIsBetter ? value >= bound : value < bound;
  }
}
