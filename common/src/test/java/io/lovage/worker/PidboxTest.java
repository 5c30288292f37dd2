package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.Message;
import io.lovage.broker.Topology;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.testing.Await;
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

  @AfterEach
  void stop() {
    release.countDown();
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
    JsonNode body = Json.MAPPER.readTree(reply.body());
    return body.path(worker.settings().name());
  }
}
