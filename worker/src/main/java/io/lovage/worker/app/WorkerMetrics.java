package io.lovage.worker.app;

import io.lovage.service.MeterSource;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

/**
 * The worker at {@code /prometheus}: totals by outcome ({@code lovage_worker_tasks_total}), per
 * task name received counts and a run-time histogram ({@code lovage_task_received_total}, {@code
 * lovage_task_runtime_seconds}), pool occupancy and capacity.
 */
@Singleton
final class WorkerMetrics implements MeterSource, WorkerObserver {
  private final jakarta.inject.Provider<Worker> worker;
  private volatile MeterRegistry registry;
  private final Map<String, Counter> receivedCounters = new ConcurrentHashMap<>();
  private final Map<String, Timer> runtimes = new ConcurrentHashMap<>();
  private final java.util.Set<String> globalRates = ConcurrentHashMap.newKeySet();

  WorkerMetrics(jakarta.inject.Provider<Worker> worker) {
    this.worker = worker;
  }

  @Override
  public void received(String task) {
    MeterRegistry r = registry;
    if (r != null) {
      receivedCounters
          .computeIfAbsent(task, name -> r.counter("lovage.task.received", "task", name))
          .increment();
    }
  }

  @Override
  public void finished(String task, String outcome, double runtimeSeconds) {
    MeterRegistry r = registry;
    if (r != null) {
      // Looked up once per task name and outcome: building the meter ID on every task showed in
      // the worker's profile at a few thousand tasks/s.
      runtimes
          .computeIfAbsent(
              task + '\0' + outcome,
              key ->
                  Timer.builder("lovage.task.runtime")
                      .description("Run time of tasks, by task name and outcome")
                      .tag("task", task)
                      .tag("outcome", outcome)
                      .publishPercentileHistogram()
                      .register(r))
          .record(Duration.ofNanos(Math.round(runtimeSeconds * 1e9)));
    }
  }

  @Override
  public void sharesGlobalRate(String task) {
    globalRates.add(task);
    MeterRegistry r = registry;
    if (r != null) {
      tokensGauge(r, worker.get(), task);
    }
  }

  /** Registering an existing gauge again is harmless: Micrometer answers the one it has. */
  private static void tokensGauge(MeterRegistry registry, Worker worker, String task) {
    Gauge.builder("lovage.rate.tokens.ready", worker, w -> w.fleetTokensReady(task).orElse(0))
        .description(
            "Tokens waiting in the queue of a task's global rate limit, as this worker last saw"
                + " them (refilled every 100 ms)")
        .tag("task", task)
        .tag("worker", worker.settings().name())
        .register(registry);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    receivedCounters.clear();
    runtimes.clear();
    this.registry = registry;
    Worker worker = this.worker.get();
    String name = worker.settings().name();
    counter(registry, "succeeded", worker, w -> w.stats().succeeded());
    counter(registry, "failed", worker, w -> w.stats().failed());
    counter(registry, "retried", worker, w -> w.stats().retried());
    counter(registry, "rejected", worker, w -> w.stats().rejected());
    FunctionCounter.builder(
            "lovage.worker.tasks.limit.delayed", worker, w -> w.stats().limitDelayed())
        .description(
            "Deliveries a rate or concurrency limit held back since start, each counted once")
        .tag("worker", name)
        .register(registry);
    Gauge.builder("lovage.worker.permits.held", worker, w -> w.stats().permitsHeld())
        .description("Concurrency permits this worker holds now: its tasks running under a limit")
        .tag("worker", name)
        .register(registry);
    globalRates.forEach(task -> tokensGauge(registry, worker, task));
    Gauge.builder("lovage.worker.tasks.active", worker, w -> w.stats().active())
        .description("Deliveries held now: running or being settled")
        .tag("worker", name)
        .register(registry);
    Gauge.builder("lovage.worker.pool.cpu.active", worker, w -> w.stats().cpuActive())
        .description("CPU tasks running now")
        .tag("worker", name)
        .register(registry);
    Gauge.builder("lovage.worker.pool.process.active", worker, w -> w.stats().processActive())
        .description("Tasks running in child processes now")
        .tag("worker", name)
        .register(registry);
    Gauge.builder("lovage.worker.pool.process.children", worker, w -> w.stats().processChildren())
        .description("Child processes of the process pool now")
        .tag("worker", name)
        .register(registry);
    Gauge.builder("lovage.worker.tasks.rate.limited", worker, w -> w.stats().rateLimited())
        .description(
            "Deliveries held back by a task's rate limit now: unacknowledged, taking no pool slot")
        .tag("worker", name)
        .register(registry);
    Gauge.builder(
            "lovage.worker.tasks.concurrency.limited", worker, w -> w.stats().concurrencyLimited())
        .description(
            "Deliveries waiting for a concurrency permit now: unacknowledged, taking no pool slot")
        .tag("worker", name)
        .register(registry);
    for (var queue : worker.settings().queues()) {
      Gauge.builder("lovage.worker.prefetch", worker, w -> w.prefetch(queue.name()))
          .description("Messages the broker hands this worker at once, per queue")
          .tag("queue", queue.name())
          .tag("worker", name)
          .register(registry);
    }
    Gauge.builder("lovage.worker.capacity", worker, w -> w.settings().capacity())
        .description("Tasks the worker can run at once (its pools together)")
        .tag("worker", name)
        .register(registry);
  }

  /**
   * Micrometer holds the object a function meter reads only weakly: it must be the worker itself (a
   * lambda would be collected, and the counter would read 0 for ever after).
   */
  private static void counter(
      MeterRegistry registry, String outcome, Worker worker, ToLongFunction<Worker> count) {
    FunctionCounter.builder("lovage.worker.tasks", worker, w -> count.applyAsLong(w))
        .description("Tasks finished since start, by outcome")
        .tag("outcome", outcome)
        .tag("worker", worker.settings().name())
        .register(registry);
  }
}
