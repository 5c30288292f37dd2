package io.lovage.bench;

import java.util.function.Supplier;

/**
 * Something a workload's rows share (a worker process), made at first use; if making it failed,
 * every later use fails with the same reason, so each row that needs it is reported missing.
 */
final class Lazy<T> implements Supplier<T> {
  private final Supplier<T> make;
  private T value;
  private RuntimeException failure;

  private Lazy(Supplier<T> make) {
    this.make = make;
  }

  static <T> Lazy<T> of(Supplier<T> make) {
    return new Lazy<>(make);
  }

  @Override
  public synchronized T get() {
    if (failure != null) {
      throw failure;
    }
    if (value == null) {
      try {
        value = make.get();
      } catch (RuntimeException e) {
        failure = e;
        throw e;
      }
    }
    return value;
  }

  synchronized boolean isMade() {
    return value != null;
  }
}
