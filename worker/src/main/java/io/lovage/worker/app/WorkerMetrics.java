package io.lovage.worker.app;

import io.lovage.service.MeterSource;
import io.lovage.worker.Worker;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Singleton;

/** The worker's counts at {@code /prometheus}: {@code lovage_worker_tasks_total{outcome=…}}. */
@Singleton
final class WorkerMetrics implements MeterSource {
  private final Worker worker;

  WorkerMetrics(Worker worker) {
    this.worker = worker;
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    String name = worker.settings().name();
    counter(registry, "succeeded", () -> worker.stats().succeeded(), name);
    counter(registry, "failed", () -> worker.stats().failed(), name);
    counter(registry, "retried", () -> worker.stats().retried(), name);
    counter(registry, "rejected", () -> worker.stats().rejected(), name);
    Gauge.builder("lovage.worker.tasks.active", worker, w -> w.stats().active())
        .description("Deliveries held now: running or being settled")
        .tag("worker", name)
        .register(registry);
    Gauge.builder("lovage.worker.pool.cpu.active", worker, w -> w.stats().cpuActive())
        .description("CPU tasks running now")
        .tag("worker", name)
        .register(registry);
    Gauge.builder("lovage.worker.capacity", worker, w -> w.settings().capacity())
        .description("Tasks the worker can run at once (IO and CPU pools)")
        .tag("worker", name)
        .register(registry);
  }

  private static void counter(
      MeterRegistry registry, String outcome, java.util.function.LongSupplier count, String name) {
    FunctionCounter.builder("lovage.worker.tasks", count, c -> c.getAsLong())
        .description("Tasks finished since start, by outcome")
        .tag("outcome", outcome)
        .tag("worker", name)
        .register(registry);
  }
}
