package io.lovage.broker;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How to consume a queue.
 *
 * @param prefetch the most unacknowledged deliveries the broker hands this consumer at once
 * @param arguments consumer arguments, e.g. {@code x-stream-offset} for a stream
 */
public record ConsumeOptions(int prefetch, Map<String, Object> arguments) {
  public ConsumeOptions {
    if (prefetch < 1) {
      throw new IllegalArgumentException("prefetch must be at least 1, got " + prefetch);
    }
    arguments = Map.copyOf(arguments);
  }

  public static ConsumeOptions prefetch(int prefetch) {
    return new ConsumeOptions(prefetch, Map.of());
  }

  public ConsumeOptions withArgument(String name, Object value) {
    Map<String, Object> copy = new LinkedHashMap<>(arguments);
    copy.put(name, value);
    return new ConsumeOptions(prefetch, copy);
  }
}
