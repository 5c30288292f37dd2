package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskKind;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.Message;
import io.lovage.broker.QueueType;
import io.lovage.broker.Topology;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.testing.Await;
import io.lovage.worker.process.ProcessPoolSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Celery's remote control (pidbox) requests as `celery inspect` sends them, on the in-memory
 * broker.
 */
class PidboxTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String QUEUE = "celery";
  private static final String REPLIES = "test.pidbox.replies";

  private final CountDownLatch release = new CountDownLatch(1);
  private final InMemoryBroker broker = new InMemoryBroker();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register("add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
          .register("wait", call -> release.await(10, TimeUnit.SECONDS))
          .register(
              "nap",
              call -> {
                Thread.sleep(Math.round(call.arg(0, "seconds", double.class) * 1000));
                return "rested";
              })
          .build();
  private final Worker worker = new Worker(broker, tasks, WorkerSettings.of(List.of(QUEUE), 4));
  private final TaskClient client = new TaskClient(broker, "test");
  private final EventStreamResultStore results = new EventStreamResultStore(1000);
  private final LinkedBlockingQueue<Message> replies = new LinkedBlockingQueue<>();

  PidboxTest() {
    worker.start();
    results.follow(broker);
    broker.declare(
        new Topology(
            List.of(),
            List.of(new Topology.Queue(REPLIES, false, Map.of())),
            List.of(new Topology.Binding(Pidbox.REPLY_EXCHANGE, REPLIES, "oid-1"))));
    broker.consume(
        REPLIES,
        ConsumeOptions.prefetch(10),
        delivery -> {
          replies.add(delivery.message());
          delivery.ack();
        });
  }

  /** A second worker, with a process pool, that a test starts; asked by its name. */
  private Worker pooled;

  @AfterEach
  void stop() {
    release.countDown();
    if (pooled != null) {
      pooled.close();
    }
    worker.close();
    broker.close();
  }

  @Test
  void pingAnswersPongUnderTheWorkersNameWithTheRequestsTicket() throws Exception {
    Message reply = ask("ping", Json.MAPPER.createObjectNode(), null);

    assertEquals("ticket-ping", reply.headers().get("ticket"));
    assertEquals("pong", answer(reply).path("ok").asString());
  }

  @Test
  void aRequestForAnotherWorkerIsNotAnswered() throws Exception {
    ask("ping", Json.MAPPER.createObjectNode(), List.of("someone-else@host"), false);

    assertEquals(null, replies.poll(300, TimeUnit.MILLISECONDS));
  }

  @Test
  void registeredListsTheTasksAndCelerysBuiltins() throws Exception {
    JsonNode names = answer(ask("registered", Json.MAPPER.createObjectNode(), null));

    List<String> list = Json.MAPPER.convertValue(names, List.class);
    assertTrue(list.contains("add") && list.contains("celery.starmap"), list.toString());
  }

  @Test
  void activeShowsARunningTaskAsCeleryShowsARequest() throws Exception {
    TaskMessage running = client.send(TaskMessage.builder("wait").build(), QUEUE).join();
    Await.until(WAIT, "the task to run", () -> !worker.activeTasks().isEmpty());

    JsonNode active = answer(ask("active", Json.MAPPER.createObjectNode(), null));

    assertEquals(1, active.size(), active.toString());
    assertEquals(running.id(), active.get(0).path("id").asString());
    assertEquals("wait", active.get(0).path("name").asString());
    assertEquals(QUEUE, active.at("/0/delivery_info/routing_key").asString());
  }

  @Test
  void revokeThroughRemoteControlGoesIntoTheDurableRevocations() throws Exception {
    TaskMessage later = TaskMessage.builder("add").args(1, 2).build();
    ObjectNode arguments = Json.MAPPER.createObjectNode();
    arguments.putArray("task_id").add(later.id());

    JsonNode answer = answer(ask("revoke", arguments, null));
    client.send(later, QUEUE).join();

    assertTrue(answer.path("ok").asString().contains(later.id()), answer.toString());
    Await.until(
        WAIT,
        "the task recorded REVOKED",
        () -> results.find(later.id()).filter(r -> r.state() == TaskState.REVOKED));
    assertTrue(worker.revokedIds().contains(later.id()));
  }

  @Test
  void addConsumerMakesTheWorkerRunTasksOfAnotherQueueAndCancelConsumerStopsIt() throws Exception {
    ObjectNode arguments = Json.MAPPER.createObjectNode();
    arguments.put("queue", "extra");

    JsonNode added = answer(ask("add_consumer", arguments, null));
    TaskMessage sent = client.send(TaskMessage.builder("add").args(2, 3).build(), "extra").join();

    assertEquals("add consumer extra", added.path("ok").asString());
    Await.until(
        WAIT,
        "the task on the added queue to succeed",
        () -> results.find(sent.id()).filter(r -> r.state() == TaskState.SUCCESS));
    assertTrue(
        answer(ask("active_queues", Json.MAPPER.createObjectNode(), null))
            .toString()
            .contains("extra"));

    JsonNode cancelled = answer(ask("cancel_consumer", arguments, null));
    TaskMessage later = client.send(TaskMessage.builder("add").args(1, 1).build(), "extra").join();

    assertEquals("no longer consuming from extra", cancelled.path("ok").asString());
    // In memory a consumer gets a message while it is published: nobody took this one.
    assertEquals(1, broker.ready("extra"), "the task waits in its queue");
    assertEquals(0, broker.unacked("extra"));
    assertTrue(results.find(later.id()).map(r -> r.state() != TaskState.SUCCESS).orElse(true));
  }

  @Test
  void anUnknownCommandAnswersAnErrorAndTheWorkerGoesOn() throws Exception {
    JsonNode answer = answer(ask("no_such_command", Json.MAPPER.createObjectNode(), null));

    assertTrue(answer.path("error").asString().contains("no_such_command"), answer.toString());
    assertEquals(
        "pong", answer(ask("ping", Json.MAPPER.createObjectNode(), null)).path("ok").asString());
  }

  @Test
  void poolGrowRaisesTheProcessPoolFloorAndAnswersOk() throws Exception {
    startPooled(0, 2);

    JsonNode answer = answer(ask("pool_grow", arguments("{\"n\": 1}"), POOLED), POOLED);

    assertEquals("pool will grow", answer.path("ok").asString(), answer.toString());
    JsonNode stats = answer(ask("stats", Json.MAPPER.createObjectNode(), POOLED), POOLED);
    assertEquals(1, stats.at("/pool/process-min").asInt(), stats.toString());
    assertEquals(2, stats.at("/pool/process-max").asInt(), stats.toString());
    assertEquals(1, stats.at("/autoscaler/min").asInt(), stats.toString());
  }

  @Test
  void poolGrowPastTheMaxRaisesTheMaxToo() throws Exception {
    startPooled(0, 1);

    answer(ask("pool_grow", arguments("{\"n\": 2}"), POOLED), POOLED);

    JsonNode stats = answer(ask("stats", Json.MAPPER.createObjectNode(), POOLED), POOLED);
    assertEquals(2, stats.at("/pool/process-min").asInt(), stats.toString());
    assertEquals(2, stats.at("/pool/process-max").asInt(), stats.toString());
  }

  @Test
  void autoscaleSetsTheProcessPoolBoundsWhichStatsShowAsCelerysAutoscaler() throws Exception {
    startPooled(0, 2);
    int concurrency =
        answer(ask("stats", Json.MAPPER.createObjectNode(), POOLED), POOLED)
            .at("/pool/max-concurrency")
            .asInt();

    JsonNode answer =
        answer(ask("autoscale", arguments("{\"max\": 1, \"min\": 0}"), POOLED), POOLED);

    assertEquals("autoscale now max=1 min=0", answer.path("ok").asString(), answer.toString());
    JsonNode stats = answer(ask("stats", Json.MAPPER.createObjectNode(), POOLED), POOLED);
    assertEquals(1, stats.at("/autoscaler/max").asInt(), stats.toString());
    assertEquals(0, stats.at("/autoscaler/min").asInt(), stats.toString());
    assertEquals(0, stats.at("/autoscaler/current").asInt(), stats.toString());
    assertEquals(1, stats.at("/pool/process-max").asInt(), stats.toString());
    assertEquals(concurrency - 1, stats.at("/pool/max-concurrency").asInt(), stats.toString());
  }

  @Test
  void poolCommandsWithBadArgumentsAnswerAnErrorAndLeaveTheBounds() throws Exception {
    startPooled(0, 2);

    for (String[] bad :
        new String[][] {
          {"pool_grow", "{\"n\": -1}"},
          {"pool_grow", "{\"n\": \"two\"}"},
          {"pool_shrink", "{\"n\": 1.5}"},
          {"autoscale", "{\"max\": 1, \"min\": 2}"},
          {"autoscale", "{\"max\": 0}"},
          {"autoscale", "{\"max\": 1000}"},
          // The pool keeps no idle child: only autoscale can lower it further.
          {"pool_shrink", "{\"n\": 1}"},
        }) {
      JsonNode answer = answer(ask(bad[0], arguments(bad[1]), POOLED), POOLED);
      assertTrue(answer.path("error").isString(), bad[0] + " " + bad[1] + ": " + answer);
    }

    JsonNode stats = answer(ask("stats", Json.MAPPER.createObjectNode(), POOLED), POOLED);
    assertEquals(0, stats.at("/pool/process-min").asInt(), stats.toString());
    assertEquals(2, stats.at("/pool/process-max").asInt(), stats.toString());
  }

  @Test
  void poolCommandsOnAWorkerWithoutAProcessPoolAnswerAnErrorThatSaysSo() throws Exception {
    for (String command : List.of("pool_grow", "pool_shrink", "autoscale")) {
      JsonNode answer = answer(ask(command, arguments("{\"n\": 1, \"max\": 2}"), null));

      assertTrue(
          answer.path("error").asString().contains("no process pool"), command + ": " + answer);
    }
    assertTrue(
        answer(ask("stats", Json.MAPPER.createObjectNode(), null))
            .path("autoscaler")
            .isMissingNode());
  }

  @Test
  void timeLimitSetsTheLimitsOfLaterTasksOfThatTypeAndAnswersOk() throws Exception {
    JsonNode answer =
        answer(
            ask(
                "time_limit",
                arguments("{\"task_name\": \"nap\", \"soft\": 0.2, \"hard\": 5}"),
                null));
    TaskMessage nap = client.send(TaskMessage.builder("nap").args(10).build(), QUEUE).join();

    assertEquals("time limits set successfully", answer.path("ok").asString(), answer.toString());
    assertEquals("SoftTimeLimitExceeded", awaitState(nap.id(), TaskState.FAILURE).error().type());
  }

  @Test
  void aMessagesOwnTimelimitStillWinsOverTheOneSetByRemoteControl() throws Exception {
    answer(
        ask("time_limit", arguments("{\"task_name\": \"nap\", \"soft\": 0.2, \"hard\": 5}"), null));

    TaskMessage nap =
        client
            .send(
                TaskMessage.builder("nap")
                    .args(0.5)
                    .timeLimit(new TaskMessage.TimeLimit(4.0, 5.0))
                    .build(),
                QUEUE)
            .join();

    awaitState(nap.id(), TaskState.SUCCESS);
  }

  @Test
  void timeLimitOfAnUnknownTaskAnswersUnknownTaskAsCeleryDoes() throws Exception {
    JsonNode answer =
        answer(ask("time_limit", arguments("{\"task_name\": \"nope\", \"soft\": 1}"), null));

    assertEquals("unknown task", answer.path("error").asString(), answer.toString());
  }

  @Test
  void timeLimitWithLimitsThatCannotHoldAnswersAnErrorAndTheTaskKeepsItsOwn() throws Exception {
    for (String bad :
        List.of(
            "{\"task_name\": \"nap\", \"soft\": -1}",
            "{\"task_name\": \"nap\", \"soft\": \"0.2\"}",
            "{\"task_name\": \"nap\", \"soft\": 3, \"hard\": 2}",
            "{\"task_name\": \"nap\", \"hard\": 3600}")) {
      JsonNode answer = answer(ask("time_limit", arguments(bad), null));
      assertTrue(answer.path("error").isString(), bad + ": " + answer);
    }

    TaskMessage nap = client.send(TaskMessage.builder("nap").args(0.3).build(), QUEUE).join();
    awaitState(nap.id(), TaskState.SUCCESS);
  }

  @Test
  void rateLimitSetsTheTasksLimitOnThisWorkerAndAnswersAsCeleryDoes() throws Exception {
    JsonNode answer =
        answer(
            ask(
                "rate_limit",
                arguments("{\"task_name\": \"add\", \"rate_limit\": \"5/s\"}"),
                null));

    assertEquals(
        "new rate limit set successfully", answer.path("ok").asString(), answer.toString());
    assertEquals(io.lovage.RateLimit.parse("5/s"), worker.rateLimiter().limitOf("add"));
    JsonNode registered = answer(ask("registered", Json.MAPPER.createObjectNode(), null));
    assertTrue(registered.toString().contains("\"add [rate_limit=5/s]\""), registered.toString());
  }

  @Test
  void rateLimitZeroOrANumberOfTasksPerSecondAsCelerysAreAccepted() throws Exception {
    JsonNode perSecond =
        answer(ask("rate_limit", arguments("{\"task_name\": \"add\", \"rate_limit\": 2}"), null));
    assertEquals("new rate limit set successfully", perSecond.path("ok").asString());
    assertEquals(io.lovage.RateLimit.perSecond(2), worker.rateLimiter().limitOf("add"));

    JsonNode disabled =
        answer(
            ask("rate_limit", arguments("{\"task_name\": \"add\", \"rate_limit\": \"0\"}"), null));

    assertEquals("rate limit disabled successfully", disabled.path("ok").asString());
    assertEquals(io.lovage.RateLimit.NONE, worker.rateLimiter().limitOf("add"));
  }

  @Test
  void rateLimitOfAnUnknownTaskOrWithAnInvalidRateAnswersCelerysErrors() throws Exception {
    JsonNode unknown =
        answer(
            ask(
                "rate_limit",
                arguments("{\"task_name\": \"nope\", \"rate_limit\": \"5/s\"}"),
                null));
    JsonNode invalid =
        answer(
            ask(
                "rate_limit",
                arguments("{\"task_name\": \"add\", \"rate_limit\": \"5/day\"}"),
                null));

    assertEquals("unknown task", unknown.path("error").asString(), unknown.toString());
    assertTrue(
        invalid.path("error").asString().startsWith("Invalid rate limit string: "),
        invalid.toString());
    assertTrue(invalid.path("error").asString().contains("'5/day'"), invalid.toString());
    assertEquals(io.lovage.RateLimit.NONE, worker.rateLimiter().limitOf("add"));
  }

  private static final String POOLED_NAME = "pooled@pidbox-test";
  private static final List<String> POOLED = List.of(POOLED_NAME);

  /** A worker with a process pool of min..max children: min 0 starts none. */
  private void startPooled(int min, int max) {
    TaskRegistry withProcessTask =
        TaskRegistry.builder()
            .register("in.child", call -> "done", TaskOptions.DEFAULT.withKind(TaskKind.PROCESS))
            .build();
    pooled =
        new Worker(
            broker,
            withProcessTask,
            new WorkerSettings(
                POOLED_NAME,
                List.of(new WorkerSettings.WeightedQueue("pooled", 1)),
                2,
                1,
                Duration.ofSeconds(5),
                QueueType.QUORUM,
                0,
                WorkerSettings.DEFAULT_RESULT_MAX_BYTES,
                ProcessPoolSettings.DEFAULT.withChildren(min, max)));
    pooled.start();
  }

  private io.lovage.result.TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in state " + state,
        () -> results.find(id).filter(r -> r.state() == state));
  }

  private static ObjectNode arguments(String json) {
    return (ObjectNode) Json.MAPPER.readTree(json);
  }

  private Message ask(String method, JsonNode arguments, List<String> destination)
      throws InterruptedException {
    return ask(method, arguments, destination, true);
  }

  /** Sends a request as kombu's Mailbox does and waits for the reply, if one is expected. */
  private Message ask(
      String method, JsonNode arguments, List<String> destination, boolean expectReply)
      throws InterruptedException {
    ObjectNode request = Json.MAPPER.createObjectNode();
    request.put("method", method);
    request.set("arguments", arguments);
    request.set("destination", Json.MAPPER.valueToTree(destination));
    request.putNull("pattern");
    request.putNull("matcher");
    request.put("ticket", "ticket-" + method);
    ObjectNode replyTo = request.putObject("reply_to");
    replyTo.put("exchange", Pidbox.REPLY_EXCHANGE);
    replyTo.put("routing_key", "oid-1");
    broker
        .publish(
            Pidbox.EXCHANGE, "", Message.json(Json.MAPPER.writeValueAsBytes(request), Map.of()))
        .join();
    if (!expectReply) {
      return null;
    }
    Message reply = replies.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertTrue(reply != null, "no reply to " + method);
    return reply;
  }

  private JsonNode answer(Message reply) {
    return answer(reply, List.of(worker.settings().name()));
  }

  private JsonNode answer(Message reply, List<String> from) {
    JsonNode body = Json.MAPPER.readTree(reply.body());
    return body.path(from.get(0));
  }
}
