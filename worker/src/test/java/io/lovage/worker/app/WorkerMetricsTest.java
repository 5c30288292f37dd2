package io.lovage.worker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.TaskClient;
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
}
