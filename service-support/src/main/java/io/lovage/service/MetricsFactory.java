package io.lovage.service;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Context;
import io.micronaut.context.annotation.Factory;
import java.util.List;

/**
 * The Prometheus registry served at {@code /prometheus}; every {@link MeterSource} bean adds its
 * meters to it.
 */
@Factory
final class MetricsFactory {

  // Created at start-up, so that meters count from the first task, not from the first scrape.
  @Context
  @Bean(preDestroy = "close")
  PrometheusMeterRegistry registry(List<MeterSource> sources) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    sources.forEach(source -> source.bindTo(registry));
    return registry;
  }
}
