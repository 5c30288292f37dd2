package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.deadletter.DeadLetter;
import io.lovage.deadletter.DeadLetterStore;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
import io.lovage.worker.process.ChildMain;
import io.lovage.worker.process.ProcessPoolSettings;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The process pool on a real RabbitMQ: tasks in child JVMs that the worker supervises, a crash or a
 * hard time limit costing only the child, recycling, autoscaling, and what comes back over the
 * pipes.
 */
class ProcessPoolIT {
  /**
   * Generous: a child is a JVM start (seconds on two busy cores), and a test may wait for two in a
   * row.
   */
  private static final Duration WAIT = Duration.ofSeconds(90);

  private final LiveQueue queue = new LiveQueue("procpool");
  private final TaskRegistry tasks = registry();
  private Worker worker;

  @TempDir Path dir;

  @AfterEach
  void stop() {
    queue.close();
  }

  @Test
  void aTaskThatCrashesItsChildFailsAloneWithWorkerLostErrorAndTheWorkerGoesOn() {
    start(children(1, 1));
    long first = pidOf(run("child.pid"));

    String crash = queue.send(TaskMessage.builder("child.crash").build()).id();

    TaskRecord failed = awaitState(crash, TaskState.FAILURE);
    assertEquals("WorkerLostError", failed.error().type());
    assertTrue(failed.error().message().contains("exited with code 137"), failed.toString());
    DeadLetter dead =
        Await.until(
            WAIT,
            "the crashed task in the dead-letter queue",
            () ->
                new DeadLetterStore(queue.broker, "test", Clock.systemUTC())
                    .list(queue.name, 0, 10).deadLetters().stream()
                        .filter(d -> d.taskId().equals(crash))
                        .findFirst());
    assertEquals("WorkerLostError", dead.exceptionType());
    long next = pidOf(run("child.pid"));
    assertNotEquals(first, next, "a new child replaced the crashed one");
    assertNotEquals(ProcessHandle.current().pid(), next, "tasks run in a child, not the worker");
  }

  @Test
  void aTaskWhoseRetryPolicyNamesWorkerLostErrorIsRetriedAfterItsChildCrashed() {
    start(children(1, 1));

    TaskRecord done = run("child.crash-once");

    assertEquals("survived on retry 1", done.result().asString());
    assertEquals(1, done.retries());
  }

  @Test
  void aTaskThatRunsOutOfHeapInItsChildFailsWithOutOfMemoryErrorAndTheChildIsReplaced() {
    start(children(1, 1).withJvmOptions(List.of("-Xmx64m")));
    long first = pidOf(run("child.pid"));

    String hog = queue.send(TaskMessage.builder("child.hog").build()).id();

    assertEquals("OutOfMemoryError", awaitState(hog, TaskState.FAILURE).error().type());
    assertNotEquals(first, pidOf(run("child.pid")), "a fresh child runs the next task");
  }

  @Test
  void aHardTimeLimitKillsTheChildAndTheTaskFailsWithTimeLimitExceeded() {
    start(children(1, 1));
    ProcessHandle child = ProcessHandle.of(pidOf(run("child.pid"))).orElseThrow();

    String spin =
        queue
            .send(
                TaskMessage.builder("child.spin")
                    .args(600)
                    .timeLimit(new TaskMessage.TimeLimit(null, 2.0))
                    .build())
            .id();

    TaskRecord failed = awaitState(spin, TaskState.FAILURE);
    assertEquals("TimeLimitExceeded", failed.error().type());
    Duration ran = Duration.between(failed.started(), failed.finished());
    assertTrue(ran.compareTo(Duration.ofSeconds(15)) < 0, "ran " + ran);
    Await.until(WAIT, "child pid=" + child.pid() + " gone", () -> !child.isAlive());
    assertNotEquals(child.pid(), pidOf(run("child.pid")), "a new child runs the next task");
  }

  @Test
  void revokingWithTerminateKillsTheChildOfATaskThatIgnoresInterruption() {
    start(children(1, 1));
    ProcessHandle child = ProcessHandle.of(pidOf(run("child.pid"))).orElseThrow();
    String spin = queue.send(TaskMessage.builder("child.spin").args(600).build()).id();
    awaitState(spin, TaskState.STARTED);

    queue.client.revoke(spin, true).join();

    awaitState(spin, TaskState.REVOKED);
    Await.until(WAIT, "child pid=" + child.pid() + " gone", () -> !child.isAlive());
    assertNotEquals(child.pid(), pidOf(run("child.pid")), "a new child runs the next task");
  }

  @Test
  void aSoftTimeLimitInterruptsTheTaskInItsChildWhichStaysForTheNextTask() {
    start(children(1, 1));
    long child = pidOf(run("child.pid"));

    String sleeper = queue.send(TaskMessage.builder("child.sleep").build()).id();

    assertEquals("SoftTimeLimitExceeded", awaitState(sleeper, TaskState.FAILURE).error().type());
    assertEquals(child, pidOf(run("child.pid")), "the same child runs the next task");
  }

  @Test
  void aChildIsReplacedAfterMaxTasksPerChild() {
    start(children(1, 1).withMaxTasksPerChild(2));

    List<Long> pids = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      pids.add(pidOf(run("child.pid")));
    }

    assertEquals(pids.get(0), pids.get(1), pids.toString());
    assertEquals(pids.get(2), pids.get(3), pids.toString());
    assertNotEquals(pids.get(1), pids.get(2), pids.toString());
    Await.until(WAIT, "the recycled child gone", () -> !alive(pids.get(0)));
  }

  @Test
  void aChildAboveMaxMemoryPerChildIsReplacedAfterItsTask() {
    // Any JVM is above 1 MiB resident: each child runs one task.
    start(children(1, 1).withMaxMemoryPerChild(ProcessPoolSettings.parseBytes("test", "1m")));

    long first = pidOf(run("child.pid"));
    long second = pidOf(run("child.pid"));

    assertNotEquals(first, second);
  }

  @Test
  void cpuBoundTasksRunInParallelInTwoChildren() {
    // One child to begin with: the second task makes the pool start another.
    start(children(1, 2));

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      ids.add(
          queue.send(TaskMessage.builder("child.rendezvous").args(dir.toString(), 2).build()).id());
    }

    List<JsonNode> results =
        ids.stream().map(id -> awaitState(id, TaskState.SUCCESS).result()).toList();
    JsonNode a = results.get(0);
    JsonNode b = results.get(1);
    assertTrue(a.get("met").asBoolean() && b.get("met").asBoolean(), results.toString());
    assertNotEquals(a.get("pid").asLong(), b.get("pid").asLong(), results.toString());
    // Both met in the rendezvous, so they overlapped; by a millisecond or less, at times.
    assertTrue(
        a.get("start").asLong() <= b.get("end").asLong()
            && b.get("start").asLong() <= a.get("end").asLong(),
        "the tasks did not overlap: " + results);
  }

  @Test
  void childrenAboveTheMinimumStopAfterIdling() {
    start(children(1, 2).withIdleTimeout(Duration.ofMillis(500)));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      ids.add(
          queue.send(TaskMessage.builder("child.rendezvous").args(dir.toString(), 2).build()).id());
    }
    ids.forEach(id -> awaitState(id, TaskState.SUCCESS));

    Await.until(WAIT, "one child left", () -> worker.stats().processChildren() == 1);
    // The pool counts a child gone once it told it to stop; its process exits a moment later.
    Await.until(WAIT, "one child process of this JVM", () -> childProcesses().size() == 1);
  }

  @Test
  void aTasksResultErrorAndProgressComeBackFromItsChildIntact() {
    start(children(1, 1));

    TaskRecord report = run("child.report", "x", 7);
    String failing =
        queue.send(TaskMessage.builder("child.fail").args("boom in the child").build()).id();
    TaskRecord failed = awaitState(failing, TaskState.FAILURE);

    assertEquals(
        Json.MAPPER.readTree(
            """
            {"text": "h\u00e9llo \u2713",
             "numbers": [1, 2.5, 123456789012345678901234567890],
             "nested": {"flag": true, "list": []},
             "args": ["x", 7],
             "stdin": -1}"""),
        report.result());
    assertEquals(3, report.progress().get("done").asInt());
    assertEquals(3, report.progress().get("total").asInt());
    assertEquals("ChildFailure", failed.error().type());
    assertEquals("boom in the child", failed.error().message());
    assertTrue(failed.error().traceback().contains("ProcessPoolTasks"), failed.error().traceback());
  }

  @Test
  void aTaskInAChildThatAsksForARetryRunsAgain() {
    start(children(1, 1));

    TaskRecord done = run("child.retry");

    assertEquals("retried 1", done.result().asString());
  }

  @Test
  void withPoolProcessEveryTaskRunsInAChild() {
    start(children(1, 1).withKinds(ProcessPoolSettings.parsePool("process")));

    long pid = pidOf(run("io.pid"));

    assertNotEquals(ProcessHandle.current().pid(), pid);
    assertEquals(1, worker.settings().capacity(), "only the process pool runs tasks");
  }

  @Test
  void aWorkerWhoseChildrenCannotStartFailsToStartAndLeavesNoChild() {
    Worker broken =
        new Worker(
            queue.broker,
            tasks,
            WorkerSettings.of(List.of(queue.name), 10)
                .withProcesses(children(1, 1).withJvmOptions(List.of("-XX:+NoSuchOption"))));

    IllegalStateException error = assertThrows(IllegalStateException.class, broken::start);

    assertTrue(error.getMessage().startsWith("process pool not started"), error.getMessage());
    // A child that failed on its options may take a moment to exit.
    Await.until(WAIT, "no child process left", () -> childProcesses().isEmpty());
  }

  @Test
  void closingTheWorkerStopsItsChildren() {
    start(children(2, 2));
    Await.until(WAIT, "two children", () -> childProcesses().size() == 2);
    Set<ProcessHandle> children = childProcesses();

    worker.close();

    assertTrue(children.stream().noneMatch(ProcessHandle::isAlive), "children left: " + children);
  }

  static TaskRegistry registry() {
    TaskRegistry.Builder builder = TaskRegistry.builder();
    new ProcessPoolTasks().register(builder);
    return builder.build();
  }

  static ProcessPoolSettings children(int min, int max) {
    return ProcessPoolSettings.DEFAULT
        .withChildren(min, max)
        .withTaskModules(List.of(ProcessPoolTasks.class.getName()));
  }

  private void start(ProcessPoolSettings processes) {
    worker =
        queue.startWorker(
            tasks, WorkerSettings.of(List.of(queue.name), 10).withProcesses(processes));
  }

  private TaskRecord run(String task, Object... args) {
    String id = queue.send(TaskMessage.builder(task).args(args).build()).id();
    return awaitState(id, TaskState.SUCCESS);
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in state " + state,
        () -> queue.results.find(id).filter(r -> r.state() == state));
  }

  private static long pidOf(TaskRecord record) {
    return record.result().asLong();
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  /** This JVM's child processes that are pool children. */
  static Set<ProcessHandle> childProcesses() {
    return ProcessHandle.current()
        .children()
        .filter(
            p ->
                p.info()
                    .commandLine()
                    .or(() -> Optional.of(""))
                    .orElseThrow()
                    .contains(ChildMain.MARKER))
        .collect(Collectors.toSet());
  }
}
