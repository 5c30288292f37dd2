package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The worker jar with {@code LOVAGE_POOL=process}, as a user runs it: its demo tasks (a Micronaut
 * bean) run in child JVMs started from the jar.
 */
class ProcessPoolWorkerIT {
  /** Generous: child JVMs start in seconds on two busy cores, and one test reruns a 20 s task. */
  private static final Duration WAIT = Duration.ofSeconds(120);

  private static AppProcess producer;

  private final String queue = RabbitFixture.uniqueQueue("process-pool");
  private AppProcess worker;

  @BeforeAll
  static void startProducer() {
    // Only recent events: a day of a shared broker's event stream takes longer to read than the
    // tests wait for a state.
    producer = AppProcess.producer(Map.of("LOVAGE_RESULT_EXPIRES", "5m"));
  }

  @AfterAll
  static void stopProducer() {
    producer.close();
  }

  @AfterEach
  void stopWorker() {
    if (worker != null) {
      worker.close();
    }
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void demoCrashInAChildFailsOnlyItselfAndTheWorkerGoesOn() throws IOException {
    worker = startWorker();

    String crash = submit("{\"task\": \"demo.crash\"}");
    JsonNode failed = awaitFinal(crash);
    String add = submit("{\"task\": \"demo.add\", \"args\": [2, 3]}");

    assertEquals("FAILURE", failed.get("state").asString(), failed.toString());
    assertEquals("WorkerLostError", failed.at("/error/type").asString(), failed.toString());
    assertTrue(worker.isAlive(), "the worker JVM survived its child");
    JsonNode done = awaitFinal(add);
    assertEquals("SUCCESS", done.get("state").asString(), done.toString());
    assertEquals(5, done.get("result").asInt());
  }

  @Test
  void aHardTimeLimitKillsTheChildOfASpinningTask() throws IOException {
    worker = startWorker();
    List<ProcessHandle> before = awaitChild();

    String spin = submit("{\"task\": \"demo.spin\", \"args\": [600], \"timeLimit\": 2}");
    JsonNode failed = awaitFinal(spin);

    assertEquals("TimeLimitExceeded", failed.at("/error/type").asString(), failed.toString());
    Await.until(
        WAIT, "the spinning child gone", () -> before.stream().noneMatch(ProcessHandle::isAlive));
  }

  @Test
  void sigtermLetsTheTaskInAChildFinishThenStopsTheChildren() throws IOException {
    worker = startWorker(Map.of());
    List<ProcessHandle> children = awaitChild();
    String spin = submit("{\"task\": \"demo.spin\", \"args\": [5]}");
    awaitComputing(children.getFirst());

    assertEquals(0, worker.stop(WAIT));

    assertEquals("SUCCESS", awaitFinal(spin).get("state").asString());
    assertTrue(children.stream().noneMatch(ProcessHandle::isAlive), "children left: " + children);
  }

  @Test
  void aWorkerIsNotHealthyUntilItConsumesAndASigtermWhileItStartsStillExitsZero() {
    // Starting the child process takes the worker a second or so: it answers HTTP meanwhile.
    worker = AppProcess.startWorker(processPool(Map.of("LOVAGE_QUEUES", queue)));
    Await.until(
        WAIT,
        "the worker to answer /health with 503 while it starts",
        () -> {
          try {
            HttpResponse<String> health = worker.get("/health");
            return health.statusCode() == 503 && health.body().contains("\"STARTING\"");
          } catch (IOException e) {
            return false;
          }
        });

    assertEquals(0, worker.stop(WAIT), "a stop during the start is a clean stop");
  }

  @Test
  void aTaskStillRunningInAChildAfterTheGraceIsRequeuedNotLost() throws IOException {
    worker = startWorker(Map.of("LOVAGE_SHUTDOWN_GRACE", "1s"));
    List<ProcessHandle> children = awaitChild();
    // 10 s: it is still spinning when the 1 s grace ends (a second of CPU after it started), and
    // its run again after the restart is what the test waits for.
    String spin = submit("{\"task\": \"demo.spin\", \"args\": [10]}");
    awaitComputing(children.getFirst());

    assertEquals(0, worker.stop(WAIT));
    assertTrue(children.stream().noneMatch(ProcessHandle::isAlive), "children left: " + children);
    worker = startWorker(Map.of());

    JsonNode done = awaitFinal(spin);
    assertEquals("SUCCESS", done.get("state").asString(), done.toString());
  }

  /**
   * Waits until the child has used a second of CPU more than when idle: its task is running. (The
   * producer's view of the task's state may lag behind on a busy broker.)
   */
  private static void awaitComputing(ProcessHandle child) {
    Duration idle = cpu(child);
    Await.until(
        WAIT,
        "the child computing",
        () -> cpu(child).minus(idle).compareTo(Duration.ofSeconds(1)) > 0);
  }

  private static Duration cpu(ProcessHandle process) {
    return process.info().totalCpuDuration().orElse(Duration.ZERO);
  }

  private AppProcess startWorker() {
    return startWorker(Map.of());
  }

  private AppProcess startWorker(Map<String, String> settings) {
    return AppProcess.worker(queue, processPool(settings));
  }

  private static Map<String, String> processPool(Map<String, String> settings) {
    Map<String, String> env = new java.util.HashMap<>(settings);
    env.put("LOVAGE_POOL", "process");
    env.put("LOVAGE_PROCESS_CONCURRENCY", "1");
    return env;
  }

  private List<ProcessHandle> awaitChild() {
    return Await.until(
        WAIT,
        "a child process of the worker",
        () -> java.util.Optional.of(worker.children()).filter(c -> !c.isEmpty()));
  }

  private static JsonNode awaitFinal(String id) {
    return Await.until(
        WAIT,
        "task " + id + " to finish",
        () ->
            producer
                .task(id)
                .filter(t -> List.of("SUCCESS", "FAILURE").contains(t.get("state").asString())));
  }

  private String submit(String json) throws IOException {
    return producer.submitTask("{\"queue\": \"" + queue + "\", " + json.substring(1));
  }
}
