package io.lovage.schedule;

import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * One of the five fields of a classic cron expression: its name in error messages, the values it
 * allows and the names it reads. Parsing a field is here so that every error names the field.
 */
enum CronField {
  MINUTE("minute", 0, 59, 59, List.of()),
  HOUR("hour", 0, 23, 23, List.of()),
  DAY_OF_MONTH("day-of-month", 1, 31, 31, List.of()),
  MONTH(
      "month",
      1,
      12,
      12,
      List.of("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
  // 7 is read as Sunday, as in Vixie cron, and kept as 0.
  DAY_OF_WEEK("day-of-week", 0, 7, 6, List.of("sun", "mon", "tue", "wed", "thu", "fri", "sat"));

  final String label;
  private final int min;
  private final int max;
  private final int stored;
  private final List<String> names;

  CronField(String label, int min, int max, int stored, List<String> names) {
    this.label = label;
    this.min = min;
    this.max = max;
    this.stored = stored;
    this.names = names;
  }

  /** Expands one field, e.g. {@code 1,10-20/5} to 1, 10, 15, 20; sorted and unmodifiable. */
  Set<Integer> parse(String field) {
    var values = new TreeSet<Integer>();
    for (String part : field.split(",", -1)) {
      if (part.isEmpty()) {
        throw error("has an empty list item in '" + field + "'");
      }
      expand(part.toLowerCase(Locale.ROOT), values);
    }
    return checked(values);
  }

  /** The values as kept in a {@link CronExpression}, checked against this field's range. */
  Set<Integer> checked(Set<Integer> values) {
    if (values == null || values.isEmpty()) {
      throw error("has no values");
    }
    for (Integer value : values) {
      if (value == null || value < min || value > stored) {
        throw error("has " + value + ", allowed " + min + "-" + stored);
      }
    }
    return Collections.unmodifiableSortedSet(new TreeSet<>(values));
  }

  private void expand(String part, Set<Integer> into) {
    int slash = part.indexOf('/');
    String range = slash < 0 ? part : part.substring(0, slash);
    int step = slash < 0 ? 1 : step(part.substring(slash + 1), part);
    int from;
    int to;
    if (range.equals("*")) {
      from = min;
      to = stored;
    } else if (range.indexOf('-') >= 0) {
      int dash = range.indexOf('-');
      from = value(range.substring(0, dash), part);
      to = value(range.substring(dash + 1), part);
      if (this == DAY_OF_WEEK && to == 0 && from > 0) {
        to = 7; // "fri-sun" ends on Sunday, the 7 of the week
      }
      if (from > to) {
        throw error(
            "has range '" + part + "' that runs backwards; write it as a list, like 22-23,0-2");
      }
    } else if (slash >= 0) {
      throw error("has '" + part + "', a step needs * or a range before it, like */10 or 5-59/10");
    } else {
      from = value(range, part);
      to = from;
    }
    for (int value = from; value <= to; value += step) {
      into.add(this == DAY_OF_WEEK ? value % 7 : value);
    }
  }

  private int step(String text, String part) {
    if (!text.isEmpty() && text.length() <= 9 && text.chars().allMatch(Character::isDigit)) {
      int step = Integer.parseInt(text);
      if (step >= 1) {
        return step;
      }
    }
    throw error("has '" + part + "', a step must be a whole number of at least 1");
  }

  private int value(String token, String part) {
    if (token.isEmpty()) {
      throw error("has '" + part + "', which is not a value, a range or a step");
    }
    if (token.chars().allMatch(Character::isDigit)) {
      long value = token.length() > 9 ? Long.MAX_VALUE : Long.parseLong(token);
      if (value < min || value > max) {
        throw error("has " + token + ", allowed " + allowed());
      }
      return (int) value;
    }
    int index = names.indexOf(token);
    if (index < 0) {
      throw error("has '" + token + "', allowed " + allowed());
    }
    return min + index;
  }

  private String allowed() {
    String numbers = min + "-" + max;
    return names.isEmpty() ? numbers : numbers + " or " + names.getFirst() + "-" + names.getLast();
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("cron field '" + label + "' " + what);
  }
}
