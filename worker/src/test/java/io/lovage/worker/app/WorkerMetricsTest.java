package io.lovage.worker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.RateLimit;
import io.lovage.TaskClient;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.lovage.broker.InMemoryBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkerMetricsTest {

  @Test
  void succeededTotalCountsTasksAlsoAfterAGarbageCollection() throws Exception {
    try (InMemoryBroker broker = new InMemoryBroker()) {
      TaskRegistry tasks = TaskRegistry.builder().register("noop", call -> null).build();
      Worker worker = new Worker(broker, tasks, WorkerSettings.of(List.of("metrics"), 2));
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      new WorkerMetrics(() -> worker).bindTo(registry);
      worker.start();
      try {
        new TaskClient(broker, "test").send(TaskMessage.builder("noop").build(), "metrics").join();
        Await.until(Duration.ofSeconds(10), "the task ran", () -> worker.stats().succeeded() == 1);
        // Micrometer keeps what a function counter reads only weakly.
        System.gc();

        double total =
            registry
                .get("lovage.worker.tasks")
                .tag("outcome", "succeeded")
                .functionCounter()
                .count();
        assertEquals(1.0, total);
      } finally {
        worker.close();
      }
    }
  }

  @Test
  void aGlobalRateLimitShowsItsTokensAndTheDeliveriesItDelayed() throws Exception {
    try (InMemoryBroker broker = new InMemoryBroker()) {
      TaskRegistry tasks =
          TaskRegistry.builder()
              .register(
                  "sms",
                  call -> null,
                  TaskOptions.DEFAULT.withRateLimit(RateLimit.parse("2/s").global()))
              .build();
      java.util.concurrent.atomic.AtomicReference<Worker> holder =
          new java.util.concurrent.atomic.AtomicReference<>();
      WorkerMetrics metrics = new WorkerMetrics(holder::get);
      Worker worker =
          new Worker(
              broker,
              tasks,
              WorkerSettings.of(List.of("metrics"), 2),
              java.time.Clock.systemUTC(),
              metrics);
      holder.set(worker);
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      metrics.bindTo(registry);
      worker.start();
      try {
        TaskClient client = new TaskClient(broker, "test");
        for (int i = 0; i < 4; i++) {
          client.send(TaskMessage.builder("sms").build(), "metrics").join();
        }
        Await.until(Duration.ofSeconds(10), "the tasks ran", () -> worker.stats().succeeded() == 4);

        assertTrue(
            registry.get("lovage.worker.tasks.limit.delayed").functionCounter().count() >= 2,
            "at 2/s, four tasks sent at once wait");
        assertTrue(
            registry.get("lovage.rate.tokens.ready").tag("task", "sms").gauge().value() >= 0,
            "the token gauge is there");
      } finally {
        worker.close();
      }
    }
  }
}
