package io.lovage.service;

import java.util.function.BooleanSupplier;

/**
 * Something a service must have done before {@code /health} calls it UP, besides its broker
 * connection: a worker is ready once it consumes its queues. Until then {@code /health} answers 503
 * and names it {@code STARTING}, so that {@code docker compose up --wait}, a readiness probe or a
 * test waiting for health waits for the service to do its work, not only to answer HTTP.
 *
 * @param name the component's name in the health answer
 * @param ready whether it is ready now
 * @param details more fields of the component in the health answer, e.g. whether this replica leads
 *     the scheduler
 */
public record Readiness(
    String name,
    BooleanSupplier ready,
    java.util.function.Supplier<java.util.Map<String, Object>> details) {
  public Readiness(String name, BooleanSupplier ready) {
    this(name, ready, java.util.Map::of);
  }
}
