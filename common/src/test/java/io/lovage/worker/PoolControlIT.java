package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.RemoteControl;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.QueueType;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
import io.lovage.worker.process.ProcessPoolSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Celery's pool and time limit commands through RabbitMQ's pidbox, as {@code celery control} sends
 * them, and what they do to a worker's child processes and its tasks.
 */
class PoolControlIT {
  /** A child is a JVM start: seconds on two busy cores, and a test may wait for two at once. */
  private static final Duration WAIT = Duration.ofSeconds(90);

  /** Far longer than a test: a child that exits does so because of a command, not from idling. */
  private static final Duration NO_IDLE_STOP = Duration.ofMinutes(10);

  private final LiveQueue queue = new LiveQueue("poolctl");
  private final RemoteControl control = new RemoteControl(queue.broker, Clock.systemUTC());
  private final TaskRegistry tasks = ProcessPoolIT.registry();
  private final String name = "poolctl-" + UUID.randomUUID() + "@test";
  private Worker worker;

  @AfterEach
  void stop() {
    control.close();
    queue.close();
  }

  @Test
  void poolGrowStartsMoreChildrenNowAndPoolShrinkMakesIdleOnesExitNow() {
    start(ProcessPoolIT.children(1, 4).withIdleTimeout(NO_IDLE_STOP));
    Await.until(WAIT, "one child", () -> ProcessPoolIT.childProcesses().size() == 1);

    assertEquals("pool will grow", ask("pool_grow", "{\"n\": 2}").path("ok").asString());
    // Counted by the pool once ready: after their JVMs appear.
    Await.until(WAIT, "three children ready", () -> worker.stats().processChildren() == 3);
    assertEquals(3, ProcessPoolIT.childProcesses().size());
    JsonNode stats = ask("stats", "{}");
    assertEquals(3, stats.at("/pool/process-min").asInt(), stats.toString());
    assertEquals(4, stats.path("pool").path("processes").size(), "the worker and its children");

    assertEquals("pool will shrink", ask("pool_shrink", "{\"n\": 2}").path("ok").asString());
    Await.until(WAIT, "one child left", () -> ProcessPoolIT.childProcesses().size() == 1);
    assertEquals(1, worker.stats().processChildren());
    assertEquals(1, ask("stats", "{}").at("/autoscaler/min").asInt());
  }

  @Test
  void autoscaleBoundsHoldTheFloorAtOnceAndTheCeilingUnderLoad() {
    start(ProcessPoolIT.children(1, 1).withIdleTimeout(Duration.ofMillis(500)));

    JsonNode answer = ask("autoscale", "{\"max\": 2, \"min\": 2}");

    assertEquals("autoscale now max=2 min=2", answer.path("ok").asString(), answer.toString());
    Await.until(WAIT, "two children", () -> ProcessPoolIT.childProcesses().size() == 2);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ids.add(queue.send(TaskMessage.builder("child.spin").args(1.0).build()).id());
    }
    AtomicInteger peak = new AtomicInteger();
    Await.until(
        WAIT,
        "the four tasks to succeed",
        () -> {
          peak.accumulateAndGet(ProcessPoolIT.childProcesses().size(), Math::max);
          return ids.stream()
              .allMatch(
                  id ->
                      queue
                          .results
                          .find(id)
                          .filter(r -> r.state() == TaskState.SUCCESS)
                          .isPresent());
        });
    assertEquals(2, peak.get(), "children at most, with four tasks waiting");
    assertEquals(2, worker.stats().processChildren(), "the floor, after the tasks and idling");

    assertEquals(
        "autoscale now max=1 min=0",
        ask("autoscale", "{\"max\": 1, \"min\": 0}").path("ok").asString());
    Await.until(
        WAIT, "no child: none kept when idle", () -> ProcessPoolIT.childProcesses().isEmpty());
  }

  @Test
  void timeLimitMakesLaterTasksOfThatTypeHitTheNewSoftAndHardLimits() {
    start(ProcessPoolIT.children(1, 1));

    // child.spin ignores interruption and declares no limit: only a hard limit ends it early.
    assertEquals(
        "time limits set successfully",
        ask("time_limit", "{\"task_name\": \"child.spin\", \"soft\": 0.5, \"hard\": 2}")
            .path("ok")
            .asString());
    // child.sleep declares a soft limit of 0.3 s; the new one replaces it.
    ask("time_limit", "{\"task_name\": \"child.sleep\", \"soft\": 1.5, \"hard\": 20}");
    String spin = queue.send(TaskMessage.builder("child.spin").args(600).build()).id();
    String sleep = queue.send(TaskMessage.builder("child.sleep").build()).id();

    TaskRecord spun = awaitState(spin, TaskState.FAILURE);
    assertEquals("TimeLimitExceeded", spun.error().type());
    Duration spinRan = Duration.between(spun.started(), spun.finished());
    assertTrue(spinRan.compareTo(Duration.ofSeconds(15)) < 0, "ran " + spinRan);
    TaskRecord slept = awaitState(sleep, TaskState.FAILURE);
    assertEquals("SoftTimeLimitExceeded", slept.error().type());
    Duration sleepRan = Duration.between(slept.started(), slept.finished());
    assertTrue(sleepRan.compareTo(Duration.ofMillis(1400)) >= 0, "ran " + sleepRan);
  }

  private void start(ProcessPoolSettings processes) {
    worker =
        queue.startWorker(
            tasks,
            new WorkerSettings(
                name,
                List.of(new WorkerSettings.WeightedQueue(queue.name, 1)),
                10,
                2,
                WorkerSettings.DEFAULT_SHUTDOWN_GRACE,
                QueueType.QUORUM,
                0,
                WorkerSettings.DEFAULT_RESULT_MAX_BYTES,
                processes));
  }

  /** Sends the command to this test's worker only, as {@code celery control ... -d <name>}. */
  private JsonNode ask(String method, String arguments) {
    JsonNode answer =
        control
            .call(
                method,
                (ObjectNode) Json.MAPPER.readTree(arguments),
                List.of(name),
                Duration.ofSeconds(10),
                1)
            .get(name);
    assertTrue(answer != null, "no answer to " + method + " from " + name);
    return answer;
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in state " + state,
        () -> queue.results.find(id).filter(r -> r.state() == state));
  }
}
