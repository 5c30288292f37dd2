package io.lovage.service;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrometheusFilterTest {
  @Test
  void aScrapeAskingForAFamilyByTheNameThePageShowsAnswersThatFamilyAlone() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Counter.builder("lovage.worker.tasks")
        .tag("outcome", "succeeded")
        .register(registry)
        .increment();
    Gauge.builder("lovage.worker.capacity", () -> 8).register(registry);

    String page =
        registry.scrape(
            "text/plain; version=0.0.4; charset=utf-8",
            OpsController.families(List.of("lovage_worker_tasks_total")));

    assertTrue(page.contains("lovage_worker_tasks_total{outcome=\"succeeded\"} 1.0"), page);
    assertFalse(page.contains("lovage_worker_capacity"), page);
  }
}
