package io.lovage.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.Canvas;
import io.lovage.Signature;
import io.lovage.TaskFailedException;
import io.lovage.TaskFuture;
import io.lovage.TaskRegistry;
import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.LiveQueue;
import io.lovage.worker.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** Workflows from Java on a real RabbitMQ, two workers, the chord joined in RabbitMQ. */
class WorkflowIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  private final LiveQueue queue = new LiveQueue("workflow");
  private final AtomicInteger bodyRuns = new AtomicInteger();
  private final AtomicInteger headerRuns = new AtomicInteger();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register(
              "wf.add",
              call -> {
                headerRuns.incrementAndGet();
                return call.arg(0, "x", long.class) + call.arg(1, "y", long.class);
              })
          .register(
              "wf.slow",
              call -> {
                headerRuns.incrementAndGet();
                Thread.sleep(10);
                return call.arg(0, "x", long.class);
              })
          .register(
              "wf.sum",
              call -> {
                bodyRuns.incrementAndGet();
                long sum = 0;
                for (JsonNode value : call.argNode(0, "values")) {
                  sum += value.asLong();
                }
                return sum;
              })
          .register(
              "wf.fail",
              call -> {
                throw new IllegalArgumentException("bad header");
              })
          .build();
  private final Worker first;

  WorkflowIT() {
    // The first worker's chord consumer registers first: it is the active one, the joiner.
    first = queue.startWorker(tasks, 32);
    queue.startWorker(tasks, 32);
  }

  @AfterEach
  void stop() {
    queue.close();
  }

  private Signature sig(String task, Object... args) {
    return Signature.of(task, args).toQueue(queue.name);
  }

  @Test
  void aChainAGroupAndAChordRunAcrossTwoWorkers() throws Exception {
    TaskFuture chain =
        queue.client.submit(
            Canvas.chain(sig("wf.add", 1, 2), sig("wf.add", 10), sig("wf.add", 100)), queue.name);
    List<Canvas> members = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      members.add(sig("wf.add", i, i));
    }
    TaskFuture group = queue.client.submit(Canvas.group(members), queue.name);
    TaskFuture chord = queue.client.submit(Canvas.chord(members, sig("wf.sum")), queue.name);

    assertEquals(113, chain.get(WAIT, long.class));
    assertEquals(
        Json.MAPPER.readTree("[0, 2, 4, 6, 8, 10, 12, 14, 16, 18]"),
        group.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(90, chord.get(WAIT, long.class));
  }

  @Test
  void aChordOfTenThousandHeaderTasksFiresItsBodyOnceWithEveryResult() throws Exception {
    List<Canvas> header = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      header.add(sig("wf.add", i, 0));
    }

    long sum =
        queue.client.submit(Canvas.chord(header, sig("wf.sum")), queue.name).get(WAIT, long.class);

    assertEquals(10_000L * 9_999 / 2, sum);
    assertEquals(1, bodyRuns.get());
  }

  @Test
  void aFailedHeaderTaskFailsTheBodyWithChordErrorAndTheBodyNeverRuns() {
    TaskFuture chord =
        queue.client.submit(
            Canvas.chord(List.of(sig("wf.add", 1, 1), sig("wf.fail")), sig("wf.sum")), queue.name);

    ExecutionException failed =
        assertThrows(ExecutionException.class, () -> chord.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    TaskFailedException error = assertInstanceOf(TaskFailedException.class, failed.getCause());
    assertEquals("ChordError", error.type());
    assertTrue(error.getMessage().contains("bad header"), error.getMessage());
    assertEquals(0, bodyRuns.get());
  }

  @Test
  void whenTheJoiningWorkerStopsMidHeaderTheOtherJoinsAndTheBodyRunsOnce() throws Exception {
    List<Canvas> header = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      header.add(sig("wf.slow", 1));
    }
    TaskFuture chord = queue.client.submit(Canvas.chord(header, sig("wf.sum")), queue.name);
    Await.until(WAIT, "a fifth of the header ran", () -> headerRuns.get() >= 200);

    first.close();

    assertEquals(1_000, chord.get(WAIT, long.class));
    assertEquals(1, bodyRuns.get());
  }
}
