package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.InMemoryBroker;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.testing.Await;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** Celery's chain and built-ins as a Celery client sends them, on the in-memory broker. */
class ChainsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String QUEUE = "celery";

  private final InMemoryBroker broker = new InMemoryBroker();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register("add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
          .register("echo", call -> call.argNode(0, "value"))
          .register("lineage", call -> List.of(call.message().parentId(), call.message().rootId()))
          .register(
              "scale", call -> call.arg(0, "x", long.class) * call.arg(1, "factor", long.class, 1L))
          .register(
              "fail",
              call -> {
                throw new IllegalStateException("broken step");
              })
          .build();
  private final Worker worker = new Worker(broker, tasks, WorkerSettings.of(List.of(QUEUE), 4));
  private final TaskClient client = new TaskClient(broker, "test");
  private final EventStreamResultStore results = new EventStreamResultStore(1000);

  ChainsTest() {
    worker.start();
    results.follow(broker);
  }

  @AfterEach
  void stop() {
    worker.close();
    broker.close();
  }

  @Test
  void eachStepGetsThePreviousResultFirstAndKnowsItsParentAndRoot() {
    JsonNode second = step("add", "s2", false, 10);
    JsonNode third = step("scale", "s3", false);
    ((ObjectNode) third.get("kwargs")).put("factor", 3);
    TaskMessage first =
        chain(TaskMessage.builder("add").args(1, 2), step("lineage", "s4", true), third, second);

    client.send(first, QUEUE).join();

    assertEquals(13, awaitState("s2", TaskState.SUCCESS).result().asInt());
    assertEquals(39, awaitState("s3", TaskState.SUCCESS).result().asInt(), "((1 + 2) + 10) * 3");
    assertEquals(
        List.of("s3", first.id()),
        Json.MAPPER.convertValue(awaitState("s4", TaskState.SUCCESS).result(), List.class));
    Await.until(WAIT, "every step acknowledged", () -> broker.unacked(QUEUE) == 0);
  }

  @Test
  void anImmutableStepRunsWithExactlyItsOwnArguments() {
    TaskMessage first =
        chain(TaskMessage.builder("add").args(1, 2), step("echo", "s2", true, "own"));

    client.send(first, QUEUE).join();

    assertEquals("own", awaitState("s2", TaskState.SUCCESS).result().asString());
  }

  @Test
  void aStepThatFailsForGoodRecordsEveryRemainingStepAsFailureWithItsError() {
    TaskMessage first =
        chain(
            TaskMessage.builder("add").args(1, 2),
            step("add", "s4", false, 1),
            step("add", "s3", false, 1),
            step("fail", "s2", false));

    client.send(first, QUEUE).join();

    for (String id : List.of("s2", "s3", "s4")) {
      TaskRecord record = awaitState(id, TaskState.FAILURE);
      assertTrue(
          record.error().message().contains("broken step"), id + ": " + record.error().message());
    }
    assertEquals("add", awaitState("s4", TaskState.FAILURE).task());
  }

  @Test
  void aRevokedStepEndsTheChainWithEveryRemainingStepRevoked() {
    TaskMessage first =
        chain(
            TaskMessage.builder("add").args(1, 2),
            step("add", "r3", false, 1),
            step("add", "r2", false, 1));
    client.revoke(first.id(), false).join();
    awaitState(first.id(), TaskState.REVOKED);

    client.send(first, QUEUE).join();

    awaitState("r2", TaskState.REVOKED);
    awaitState("r3", TaskState.REVOKED);
  }

  @Test
  void aNestedChainIsFlattenedIntoTheChain() {
    ObjectNode nested = Json.MAPPER.createObjectNode();
    nested.put("task", "celery.chain");
    nested.putArray("args");
    nested
        .putObject("kwargs")
        .putArray("tasks")
        .add(step("add", "n1", false, 1))
        .add(step("add", "n2", false, 1));
    nested.putObject("options");
    nested.put("subtask_type", "chain");
    TaskMessage first =
        chain(TaskMessage.builder("add").args(1, 1), step("add", "after", false, 100), nested);

    client.send(first, QUEUE).join();

    assertEquals(104, awaitState("after", TaskState.SUCCESS).result().asInt());
  }

  @Test
  void starmapRunsTheTaskOncePerArgumentListAndAnswersTheResultsInOrder() {
    ObjectNode kwargs = Json.MAPPER.createObjectNode();
    kwargs.set("task", step("add", null, false));
    kwargs.set("it", Json.MAPPER.readTree("[[1, 2], [3, 4], [5, 6]]"));
    TaskMessage sent =
        client.send(TaskMessage.builder(Builtins.STARMAP).kwargs(kwargs).build(), QUEUE).join();

    assertEquals(
        Json.MAPPER.readTree("[3, 7, 11]"), awaitState(sent.id(), TaskState.SUCCESS).result());
  }

  @Test
  void mapAndChunksRunTheTaskPerItemAndPerChunk() {
    ObjectNode map = Json.MAPPER.createObjectNode();
    map.set("task", step("echo", null, false));
    map.set("it", Json.MAPPER.readTree("[\"a\", \"b\"]"));
    ObjectNode chunks = Json.MAPPER.createObjectNode();
    chunks.set("task", step("add", null, false));
    chunks.set("it", Json.MAPPER.readTree("[[1, 1], [2, 2], [3, 3]]"));
    chunks.put("n", 2);

    TaskMessage mapped =
        client.send(TaskMessage.builder(Builtins.MAP).kwargs(map).build(), QUEUE).join();
    TaskMessage chunked =
        client.send(TaskMessage.builder(Builtins.CHUNKS).kwargs(chunks).build(), QUEUE).join();

    assertEquals(
        Json.MAPPER.readTree("[\"a\", \"b\"]"),
        awaitState(mapped.id(), TaskState.SUCCESS).result());
    assertEquals(
        Json.MAPPER.readTree("[[2, 4], [6]]"),
        awaitState(chunked.id(), TaskState.SUCCESS).result());
  }

  /** A Celery signature dict with a frozen id, as a Celery client puts it in embed.chain. */
  private static ObjectNode step(String task, String id, boolean immutable, Object... args) {
    ObjectNode signature = Json.MAPPER.createObjectNode();
    signature.put("task", task);
    signature.set("args", Json.MAPPER.valueToTree(args));
    signature.putObject("kwargs");
    ObjectNode options = signature.putObject("options");
    if (id != null) {
      options.put("task_id", id);
    }
    signature.putNull("subtask_type");
    signature.put("immutable", immutable);
    return signature;
  }

  /** The first step, with the later ones in embed.chain, last step first. */
  private static TaskMessage chain(TaskMessage.Builder first, JsonNode... laterLastFirst) {
    ObjectNode embed = Json.MAPPER.createObjectNode();
    embed.putNull("callbacks");
    embed.putNull("errbacks");
    ArrayNode chain = embed.putArray("chain");
    for (JsonNode step : laterLastFirst) {
      chain.add(step);
    }
    embed.putNull("chord");
    return first.embed(embed).build();
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in state " + state,
        () -> results.find(id).filter(r -> r.state() == state));
  }
}
