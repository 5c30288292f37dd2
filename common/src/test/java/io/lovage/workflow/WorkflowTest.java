package io.lovage.workflow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.Canvas;
import io.lovage.Signature;
import io.lovage.TaskClient;
import io.lovage.TaskFailedException;
import io.lovage.TaskFuture;
import io.lovage.TaskRegistry;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.protocol.Json;
import io.lovage.protocol.SignatureDict;
import io.lovage.result.TaskEvents;
import io.lovage.testing.Await;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerSettings;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** Workflows submitted from Java (chain, group, chord, nested), run by workers in memory. */
class WorkflowTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String QUEUE = "celery";

  private final InMemoryBroker broker = new InMemoryBroker();
  private final AtomicInteger bodyRuns = new AtomicInteger();
  private final Map<String, AtomicInteger> errbacks = new ConcurrentHashMap<>();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register("add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
          .register("double", call -> call.arg(0, "x", long.class) * 2)
          .register(
              "tsum",
              call -> {
                bodyRuns.incrementAndGet();
                long sum = 0;
                for (JsonNode value : call.argNode(0, "values")) {
                  sum += value.asLong();
                }
                return sum;
              })
          .register("collect", call -> call.argNode(0, "values"))
          .register(
              "on-error",
              call ->
                  errbacks
                      .computeIfAbsent(call.arg(0, "id", String.class), id -> new AtomicInteger())
                      .incrementAndGet())
          .register(
              "fail",
              call -> {
                throw new IllegalStateException("header broke");
              })
          .build();
  private final List<Worker> workers = new ArrayList<>();
  private final TaskClient client = new TaskClient(broker, "test");

  WorkflowTest() {
    workers.add(start());
  }

  private Worker start() {
    Worker worker = new Worker(broker, tasks, WorkerSettings.of(List.of(QUEUE), 8));
    worker.start();
    return worker;
  }

  @AfterEach
  void stop() {
    workers.forEach(Worker::close);
    broker.close();
  }

  @Test
  void aChainAnswersItsLastStepsResult() throws Exception {
    TaskFuture result =
        client.submit(
            Canvas.chain(
                Signature.of("add", 1, 2), Signature.of("double"), Signature.of("add", 4)));

    assertEquals(10, result.get(WAIT, long.class), "((1 + 2) * 2) + 4");
  }

  @Test
  void aGroupAnswersItsMembersResultsInOrder() throws Exception {
    List<Canvas> members = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      members.add(Signature.of("add", i, i));
    }

    JsonNode result = client.submit(Canvas.group(members)).get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertEquals(Json.MAPPER.readTree("[0, 2, 4, 6, 8, 10, 12, 14, 16, 18]"), result);
  }

  @Test
  void aChordRunsItsBodyOnceWithTheHeaderResultsInHeaderOrder() throws Exception {
    List<Canvas> header = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      header.add(Signature.of("add", i, 0));
    }

    JsonNode result =
        client
            .submit(Canvas.chord(header, Signature.of("collect")))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);

    for (int i = 0; i < 50; i++) {
      assertEquals(i, result.get(i).asInt(), "header order at " + i);
    }
    Await.until(
        WAIT,
        "chord parts acknowledged",
        () ->
            broker.ready(LovageTopology.CHORD_QUEUE) == 0
                && broker.unacked(LovageTopology.CHORD_QUEUE) == 0);
  }

  @Test
  void aChordOfThousandsOfHeaderTasksFoldsItsPartsAndStillJoinsOnce() throws Exception {
    List<Canvas> header = new ArrayList<>();
    for (int i = 0; i < 2_500; i++) {
      header.add(Signature.of("add", i, 1));
    }

    long sum = client.submit(Canvas.chord(header, Signature.of("tsum"))).get(WAIT, long.class);

    assertEquals(2_500L * 2_499 / 2 + 2_500, sum);
    assertEquals(1, bodyRuns.get());
  }

  @Test
  void aHeaderTaskThatFailsEndsTheChordWithChordErrorNamingIt() {
    List<Canvas> header = List.of(Signature.of("add", 1, 1), Signature.of("fail"));

    TaskFuture result = client.submit(Canvas.chord(header, Signature.of("tsum")));

    ExecutionException failed =
        assertThrows(
            ExecutionException.class, () -> result.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    TaskFailedException error = assertInstanceOf(TaskFailedException.class, failed.getCause());
    assertEquals("ChordError", error.type());
    assertTrue(error.getMessage().contains("header broke"), error.getMessage());
    assertEquals(0, bodyRuns.get(), "the body never runs");
  }

  @Test
  void aFailedChordRunsItsBodysErrbacksOnceWithTheBodysId() {
    ObjectNode body = Signature.of("tsum").toJson();
    ((ObjectNode) body.get("options")).set("link_error", Signature.of("on-error").toJson());
    ObjectNode chord =
        Canvas.chord(List.of(Signature.of("fail"), Signature.of("fail")), Signature.of("tsum"))
            .toJson();
    ((ObjectNode) chord.get("kwargs")).set("body", body);
    ObjectNode frozen = CanvasSender.freeze(chord, null);
    String bodyId = SignatureDict.taskId(SignatureDict.body(frozen));

    new CanvasSender(
            broker, client, new TaskEvents(broker, "test", Clock.systemUTC()), Clock.systemUTC())
        .send(frozen, null, List.of(), null, QUEUE)
        .join();

    Await.until(WAIT, "the errback ran", () -> errbacks.containsKey(bodyId));
    assertEquals(1, errbacks.get(bodyId).get(), "once, though two header tasks failed");
    assertEquals(0, bodyRuns.get());
  }

  @Test
  void aGroupFollowedByATaskInAChainIsAChord() throws Exception {
    TaskFuture result =
        client.submit(
            Canvas.chain(
                Signature.of("add", 1, 1),
                Canvas.group(Signature.of("add", 10), Signature.of("add", 20)),
                Signature.of("tsum"),
                Signature.of("double")));

    assertEquals(2 * ((2 + 10) + (2 + 20)), result.get(WAIT, long.class));
  }

  @Test
  void aChordWhoseHeaderMembersAreChainsGetsEachChainsLastResult() throws Exception {
    TaskFuture result =
        client.submit(
            Canvas.chord(
                List.of(
                    Canvas.chain(Signature.of("add", 1, 1), Signature.of("double")),
                    Canvas.chain(Signature.of("add", 2, 2), Signature.of("double"))),
                Signature.of("collect")));

    assertEquals(Json.MAPPER.readTree("[4, 8]"), result.get(WAIT.toSeconds(), TimeUnit.SECONDS));
  }

  @Test
  void aGroupOfChainsAnswersEachChainsResult() throws Exception {
    TaskFuture result =
        client.submit(
            Canvas.group(
                Canvas.chain(Signature.of("add", 1, 1), Signature.of("double")),
                Signature.of("add", 5, 5)));

    assertEquals(Json.MAPPER.readTree("[4, 10]"), result.get(WAIT.toSeconds(), TimeUnit.SECONDS));
  }

  @Test
  void mapAndStarmapAndChunksFromJava() throws Exception {
    assertEquals(
        Json.MAPPER.readTree("[2, 4]"),
        client
            .submit(Signature.of("double").map(List.of(1, 2)))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(
        Json.MAPPER.readTree("[3, 7]"),
        client
            .submit(Signature.of("add").starmap(List.of(List.of(1, 2), List.of(3, 4))))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertEquals(
        Json.MAPPER.readTree("[[2, 4], [6]]"),
        client
            .submit(
                Signature.of("add").chunks(List.of(List.of(1, 1), List.of(2, 2), List.of(3, 3)), 2))
            .get(WAIT.toSeconds(), TimeUnit.SECONDS));
  }

  @Test
  void aChordPartDeliveredTwiceDoesNotFireTheBodyTwice() throws Exception {
    // Every header result reported twice, as when a worker dies after reporting and before
    // acknowledging: the join counts each index once.
    ChordParts part = part("twice", 0, 1);
    for (int i = 0; i < 3; i++) {
      broker.publish("", LovageTopology.CHORD_QUEUE, part.toMessage()).join();
    }
    assertEquals(0, bodyRuns.get(), "one of two results is not enough");

    broker.publish("", LovageTopology.CHORD_QUEUE, part("twice", 1, 2).toMessage()).join();
    Await.until(WAIT, "the body ran", () -> bodyRuns.get() == 1);
    broker.publish("", LovageTopology.CHORD_QUEUE, part.toMessage()).join();
    Await.until(
        WAIT,
        "the late part dropped",
        () ->
            broker.ready(LovageTopology.CHORD_QUEUE) == 0
                && broker.unacked(LovageTopology.CHORD_QUEUE) == 0);
    assertEquals(1, bodyRuns.get());
  }

  @Test
  void whenTheJoiningWorkerStopsAnotherJoinsTheChordFromItsParts() throws Exception {
    Worker second = start();
    workers.add(second);
    ChordParts first = part("handover", 0, 5);
    broker.publish("", LovageTopology.CHORD_QUEUE, first.toMessage()).join();
    Await.until(WAIT, "the first part held", () -> broker.unacked(LovageTopology.CHORD_QUEUE) == 1);

    workers.getFirst().close();
    broker.publish("", LovageTopology.CHORD_QUEUE, part("handover", 1, 6).toMessage()).join();

    Await.until(WAIT, "the body ran on the second worker", () -> bodyRuns.get() == 1);
  }

  /** The report of header task {@code index} of a chord of two with a tsum body. */
  private static ChordParts part(String chord, int index, long result) {
    return new ChordParts(
        chord,
        2,
        Signature.of("tsum").toJson(),
        "root",
        QUEUE,
        Map.of(index, Json.MAPPER.getNodeFactory().numberNode(result)),
        null);
  }
}
