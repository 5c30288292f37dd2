package io.lovage.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ParsingTest {
  @Test
  void succeededTasksAreSummedOverTheWorkerSeries() {
    String prometheus =
        """
        # HELP lovage_worker_tasks_total Tasks finished since start, by outcome
        # TYPE lovage_worker_tasks_total counter
        lovage_worker_tasks_total{outcome="failed",worker="lovage-1@h"} 3.0
        lovage_worker_tasks_total{outcome="succeeded",worker="lovage-1@h"} 12345.0
        lovage_worker_tasks_active{worker="lovage-1@h"} 0.0
        """;

    assertEquals(12_345, LovageApp.parseSucceeded(prometheus));
  }

  @Test
  void metricsWithoutTheSucceededCounterAreAnError() {
    assertThrows(IllegalStateException.class, () -> LovageApp.parseSucceeded("up 1.0\n"));
  }

  @Test
  void aMetricIsSummedOverItsSeriesAndNaNWhenTheAppHasNone() {
    String prometheus =
        """
        # TYPE lovage_scheduler_leader gauge
        lovage_scheduler_leader 1.0
        lovage_scheduler_leader_changes_total 3.0
        lovage_worker_tasks_total{outcome="failed",worker="a"} 2.0
        lovage_worker_tasks_total{outcome="succeeded",worker="a"} 5.0
        """;

    assertEquals(1, LovageApp.parseMetric(prometheus, "lovage_scheduler_leader"));
    assertEquals(7, LovageApp.parseMetric(prometheus, "lovage_worker_tasks_total"));
    assertTrue(Double.isNaN(LovageApp.parseMetric(prometheus, "lovage_schedule_runs_sent_total")));
  }

  @Test
  void perfTestRatesAreReadFromItsSummary() {
    String output =
        """
        test stopped (Producer reached message limit, Consumer reached message limit)
        id: lovage-bench, sending rate avg: 8254 msg/s
        id: lovage-bench, receiving rate avg: 8199 msg/s
        """;

    assertEquals(
        8199, PerfTestCeiling.rate(Pattern.compile("receiving rate avg: (\\d+) msg/s"), output));
  }

  @Test
  void perfTestsRateIsTheMeanOfTheSecondsAfterItsWarmUp() {
    String output =
        """
        id: lovage-bench, time 1.000 s, sent: 3000 msg/s, confirmed: 2000 msg/s, nacked: 0 msg/s, received: 2000 msg/s, min/median consumer latency: 1/2 µs
        id: lovage-bench, time 2.001 s, sent: 9000 msg/s, confirmed: 9000 msg/s, nacked: 0 msg/s, received: 8000 msg/s, min/median consumer latency: 1/2 µs
        id: lovage-bench, time 3.000 s, sent: 9000 msg/s, confirmed: 9000 msg/s, nacked: 0 msg/s, received: 10000 msg/s, min/median consumer latency: 1/2 µs
        id: lovage-bench, time 4.002 s, sent: 9000 msg/s, confirmed: 9000 msg/s, nacked: 0 msg/s, received: 12000 msg/s, min/median consumer latency: 1/2 µs
        id: lovage-bench, sending rate avg: 7500 msg/s
        id: lovage-bench, receiving rate avg: 8000 msg/s
        """;

    assertEquals(11_000, PerfTestCeiling.steadyRate(output, Duration.ofSeconds(2)), 1e-9);
    assertThrows(
        IllegalStateException.class,
        () -> PerfTestCeiling.steadyRate(output, Duration.ofSeconds(4)));
  }

  @Test
  void aNoopTaskBodyIsSmallAndItsHeadersAreNot() {
    // [[], {}, {"callbacks": null, "errbacks": null, "chain": null, "chord": null}]
    assertEquals(68, PerfTestCeiling.bodyBytes());
  }

  @Test
  void celeryWorkflowTimesAreReadFromTheClientsLastJsonLine() {
    String output =
        """
          chord warm-up: 3.100 s
          chain warm-up: 1.200 s
        {"chord": {"warmup": 3.1, "runs": [2.5, 2.1, 2.9]}, "chain": {"warmup": 1.2, "runs": [0.8]}}
        """;

    WorkflowComparison.Results results = WorkflowComparison.parse(output, "prefork -c 2");

    assertEquals(3.1, results.chord().warmup());
    assertEquals(java.util.List.of(2.5, 2.1, 2.9), results.chord().runs());
    assertEquals(java.util.List.of(0.8), results.chain().runs());
  }

  @Test
  void aClientThatPrintedNoTimesIsAnError() {
    assertThrows(
        IllegalStateException.class,
        () -> WorkflowComparison.parse("chord run 1 answered None\n", "prefork -c 2"));
  }

  @Test
  void aWorkflowRowIsTheMedianOfItsTimedRuns() {
    var times = new WorkflowComparison.Times(9.0, java.util.List.of(0.5, 0.3, 0.9), "how");

    assertEquals(0.5, times.measured().value());
    assertEquals(
        0.4,
        new WorkflowComparison.Times(9.0, java.util.List.of(0.5, 0.3), "").measured().value(),
        1e-9);
  }

  @Test
  void percentilesAreNearestRank() {
    java.util.List<Double> values =
        java.util.stream.IntStream.rangeClosed(1, 200).mapToObj(i -> (double) i).toList();

    assertEquals(100, PickupLatency.at(values, 50));
    assertEquals(198, PickupLatency.at(values, 99));
    assertEquals(200, PickupLatency.at(values, 100));
  }

  @Test
  void theClusterScriptsEnvIsWhatItsAppsGet() {
    String output =
        """
        export RABBITMQ_URI="amqp://guest:guest@localhost:5681/%2F"
        export RABBITMQ_ADDRESSES="localhost:5681,localhost:5682,localhost:5683"
        export RABBITMQ_STREAM_ADDRESSES="localhost:5561,localhost:5562,localhost:5563"
        """;

    var env = ClusterThroughput.env(output);

    assertEquals("amqp://guest:guest@localhost:5681/%2F", env.get("RABBITMQ_URI"));
    assertEquals("localhost:5681,localhost:5682,localhost:5683", env.get("RABBITMQ_ADDRESSES"));
    assertEquals(
        "localhost:5561,localhost:5562,localhost:5563", env.get("RABBITMQ_STREAM_ADDRESSES"));
    // Without the stream addresses, the apps would read the default node's streams on 5552.
    assertThrows(
        IllegalStateException.class,
        () -> ClusterThroughput.env("export RABBITMQ_URI=\"amqp://localhost:5681\"\n"));
  }
}
