package io.lovage.service;

import io.micrometer.core.instrument.MeterRegistry;

/** A bean that contributes meters to {@code /prometheus}. */
@FunctionalInterface
public interface MeterSource {
  void bindTo(MeterRegistry registry);
}
