package io.lovage.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one {@code wrk --latency} run printed.
 *
 * @param requests every request completed, whatever its status
 * @param failed requests answered with a status other than 2xx/3xx, plus socket errors
 */
record WrkResult(long requests, double seconds, long failed, double p50Millis, double p99Millis) {
  private static final Pattern TOTAL =
      Pattern.compile("(\\d+) requests in ([\\d.]+)(us|ms|s|m)\\b");
  private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
  private static final Pattern SOCKET_ERRORS =
      Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");

  static WrkResult parse(String output) {
    Matcher total = TOTAL.matcher(output);
    if (!total.find()) {
      throw new IllegalStateException("wrk printed no 'N requests in' line:\n" + output);
    }
    long failed = 0;
    Matcher non2xx = NON_2XX.matcher(output);
    if (non2xx.find()) {
      failed += Long.parseLong(non2xx.group(1));
    }
    Matcher socket = SOCKET_ERRORS.matcher(output);
    if (socket.find()) {
      for (int group = 1; group <= 4; group++) {
        failed += Long.parseLong(socket.group(group));
      }
    }
    return new WrkResult(
        Long.parseLong(total.group(1)),
        millis(total.group(2), total.group(3)) / 1000,
        failed,
        percentile(output, "50%"),
        percentile(output, "99%"));
  }

  private static double percentile(String output, String which) {
    Matcher m =
        Pattern.compile(
                "^\\s*" + Pattern.quote(which) + "\\s+([\\d.]+)(us|ms|s|m)\\s*$", Pattern.MULTILINE)
            .matcher(output);
    if (!m.find()) {
      throw new IllegalStateException(
          "wrk printed no " + which + " latency (run it with --latency)");
    }
    return millis(m.group(1), m.group(2));
  }

  private static double millis(String number, String unit) {
    double value = Double.parseDouble(number);
    return switch (unit) {
      case "us" -> value / 1000;
      case "ms" -> value;
      case "s" -> value * 1000;
      case "m" -> value * 60_000;
      default -> throw new IllegalArgumentException(unit);
    };
  }

  /** Requests answered 2xx per second. */
  double okPerSecond() {
    return (requests - failed) / seconds;
  }

  Map<String, Object> raw() {
    Map<String, Object> raw = new LinkedHashMap<>();
    raw.put("requests", requests);
    raw.put("seconds", seconds);
    raw.put("failed", failed);
    raw.put("okRequestsPerSecond", okPerSecond());
    raw.put("p50Millis", p50Millis);
    raw.put("p99Millis", p99Millis);
    return raw;
  }
}
