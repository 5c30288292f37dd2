package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** RabbitBroker against a real RabbitMQ. */
class RabbitBrokerIT {
  private final RabbitBroker broker = RabbitFixture.connect("RabbitBrokerIT");
  private final String queue = RabbitFixture.uniqueQueue("broker");

  @AfterEach
  void cleanUp() {
    broker.close();
    RabbitFixture.deleteQueues(
        queue, LovageTopology.deadLetterQueue(queue), LovageTopology.brokerDeadLetterQueue(queue));
  }

  @Test
  void confirmedMessageArrivesWithItsHeadersAndProperties() {
    broker.declare(LovageTopology.taskQueue(queue));
    List<Delivery> received = new CopyOnWriteArrayList<>();
    broker.consume(queue, ConsumeOptions.prefetch(1), received::add);
    Message sent =
        new Message(
            "[[], {}, null]".getBytes(StandardCharsets.UTF_8),
            Map.of(
                "task", "demo.noop", "retries", 2, "timelimit", java.util.Arrays.asList(null, 5)),
            "application/json",
            "utf-8",
            "corr-1",
            "reply-here",
            3,
            true);

    broker.publish(LovageTopology.TASK_EXCHANGE, queue, sent).join();

    Delivery delivery =
        Await.until(Duration.ofSeconds(10), "a delivery", () -> received.stream().findFirst());
    assertArrayEquals(sent.body(), delivery.message().body());
    assertEquals("demo.noop", delivery.message().headers().get("task"));
    assertEquals(2, delivery.message().headers().get("retries"));
    assertEquals(java.util.Arrays.asList(null, 5), delivery.message().headers().get("timelimit"));
    assertEquals("corr-1", delivery.message().correlationId());
    assertEquals("reply-here", delivery.message().replyTo());
    assertEquals(0, delivery.deliveryCount());
    delivery.ack();
  }

  @Test
  void aPublishToAStreamMadeWhenAnotherPublishIsConfirmedIsConfirmedTooThoughItOpensAChannel() {
    broker.declare(LovageTopology.taskQueue(queue).plus(LovageTopology.events()));

    // The stream's channel (StreamLanes) opens at its first publish, here on the connection's own
    // thread, which runs what waits on a confirm: opening it there would wait for itself.
    java.util.concurrent.CompletableFuture<Void> event =
        broker
            .publish(LovageTopology.TASK_EXCHANGE, queue, Message.text("task"))
            .thenCompose(
                ok ->
                    broker.publish(
                        LovageTopology.EVENT_EXCHANGE,
                        "task.sent",
                        Message.json("{}".getBytes(StandardCharsets.UTF_8), Map.of())));

    event.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
  }

  @Test
  void publishesFromManyThreadsAtOnceAreAllConfirmedAndEachThreadsArriveInTheOrderItSentThem()
      throws Exception {
    broker.declare(LovageTopology.taskQueue(queue));
    int threads = 64;
    int each = 50;
    List<java.util.concurrent.CompletableFuture<Void>> confirms = new CopyOnWriteArrayList<>();
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int t = 0; t < threads; t++) {
        int thread = t;
        pool.execute(
            () -> {
              for (int i = 0; i < each; i++) {
                confirms.add(
                    broker.publish(
                        LovageTopology.TASK_EXCHANGE, queue, Message.text(thread + ":" + i)));
              }
            });
      }
    }
    java.util.concurrent.CompletableFuture.allOf(
            confirms.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
        .get(30, java.util.concurrent.TimeUnit.SECONDS);

    List<String> received = new CopyOnWriteArrayList<>();
    broker.consume(
        queue,
        ConsumeOptions.prefetch(500),
        delivery -> {
          received.add(new String(delivery.message().body(), StandardCharsets.UTF_8));
          delivery.ack();
        });
    Await.until(
        Duration.ofSeconds(20), "every message delivered", () -> received.size() == threads * each);
    Map<String, Integer> lastByThread = new java.util.HashMap<>();
    for (String body : received) {
      String[] parts = body.split(":");
      int previous = lastByThread.getOrDefault(parts[0], -1);
      assertEquals(previous + 1, Integer.parseInt(parts[1]), "order of thread " + parts[0]);
      lastByThread.put(parts[0], previous + 1);
    }
  }

  @Test
  void aListOfNodesConnectsThroughOneThatAnswersWhenAnotherDoesNot() {
    java.net.URI uri = java.net.URI.create(RabbitFixture.uri());
    String node = uri.getHost() + ":" + (uri.getPort() < 0 ? 5672 : uri.getPort());
    BrokerSettings settings =
        BrokerSettings.of(RabbitFixture.uri(), "RabbitBrokerIT nodes")
            .withAddresses("localhost:1, " + node);

    // Tried in a random order: the closed port refuses at once, and the other node answers.
    for (int i = 0; i < 3; i++) {
      try (RabbitBroker nodes = RabbitBroker.connect(settings)) {
        nodes.declare(LovageTopology.taskQueue(queue));
        nodes.publish(LovageTopology.TASK_EXCHANGE, queue, Message.text("through a node")).join();
      }
    }

    assertEquals(3, RabbitFixture.messagesReady(queue));
  }

  @Test
  void inspectCountsAQueuesReadyMessagesAndConsumersAndIsEmptyForAMissingQueue() {
    broker.declare(LovageTopology.taskQueue(queue));
    broker.publish(LovageTopology.TASK_EXCHANGE, queue, Message.text("one")).join();
    broker.publish(LovageTopology.TASK_EXCHANGE, queue, Message.text("two")).join();

    assertEquals(new Broker.QueueCounts(2, 0), broker.inspect(queue).orElseThrow());
    try (Subscription consumer = broker.consume(queue, ConsumeOptions.prefetch(1), d -> {})) {
      Await.until(
          Duration.ofSeconds(10),
          "the consumer counted, one message out with it",
          () -> broker.inspect(queue).orElseThrow().equals(new Broker.QueueCounts(1, 1)));
    }
    assertTrue(broker.inspect(queue + ".missing").isEmpty());
    assertTrue(broker.inspect(queue).isPresent(), "an inspect after a missing queue works");
  }

  @Test
  void unroutablePublishFailsAlthoughTheBrokerConfirmsIt() {
    broker.declare(LovageTopology.taskQueue(queue));

    CompletionException e =
        assertThrows(
            CompletionException.class,
            () ->
                broker
                    .publish(
                        LovageTopology.TASK_EXCHANGE,
                        "no-queue-has-this-key",
                        Message.json(new byte[0], Map.of()))
                    .join());

    PublishException cause = assertInstanceOf(PublishException.class, e.getCause());
    assertEquals(PublishException.Reason.UNROUTABLE, cause.reason());
  }

  @Test
  void publishToMissingExchangeFailsAndTheNextPublishStillWorks() {
    broker.declare(LovageTopology.taskQueue(queue));

    CompletionException e =
        assertThrows(
            CompletionException.class,
            () ->
                broker
                    .publish("no.such.exchange", queue, Message.json(new byte[0], Map.of()))
                    .join());
    assertInstanceOf(PublishException.class, e.getCause());

    broker.publish(LovageTopology.TASK_EXCHANGE, queue, Message.json(new byte[0], Map.of())).join();
  }

  @Test
  void aPublishTheBrokerDoesNotConfirmInTimeFailsAsATimeoutAndPublishingWorksAfterIt() {
    BrokerSettings settings =
        BrokerSettings.of(RabbitFixture.uri(), "RabbitBrokerIT timeout")
            .withPublishTimeout(Duration.ofSeconds(1));
    try (RabbitBroker blocked = RabbitBroker.connect(settings)) {
      blocked.declare(LovageTopology.taskQueue(queue));
      // A memory alarm: RabbitMQ stops reading from publishing connections, so no confirm comes.
      RabbitFixture.rabbitmqctl("set_vm_memory_high_watermark", "0.0000001");
      CompletionException e;
      try {
        e =
            assertThrows(
                CompletionException.class,
                () ->
                    blocked
                        .publish(LovageTopology.TASK_EXCHANGE, queue, Message.text("unconfirmed"))
                        .join());
      } finally {
        RabbitFixture.rabbitmqctl("set_vm_memory_high_watermark", "0.6");
      }

      PublishException cause = assertInstanceOf(PublishException.class, e.getCause());
      assertEquals(PublishException.Reason.TIMEOUT, cause.reason());
      Await.until(
          Duration.ofSeconds(20),
          "a confirmed publish after the alarm",
          () -> {
            try {
              blocked.publish(LovageTopology.TASK_EXCHANGE, queue, Message.text("after")).join();
              return true;
            } catch (CompletionException stillBlocked) {
              return false;
            }
          });
    }
  }

  @Test
  void rejectedMessageIsDeadLetteredByTheBrokerWithTheReasonInXDeath() {
    broker.declare(LovageTopology.taskQueue(queue));
    broker.consume(queue, ConsumeOptions.prefetch(1), Delivery::reject);
    List<Delivery> dead = new CopyOnWriteArrayList<>();
    broker.consume(
        LovageTopology.brokerDeadLetterQueue(queue), ConsumeOptions.prefetch(1), dead::add);

    broker
        .publish(
            LovageTopology.TASK_EXCHANGE,
            queue,
            Message.json("x".getBytes(StandardCharsets.UTF_8), Map.of()))
        .join();

    Delivery d =
        Await.until(Duration.ofSeconds(10), "a dead letter", () -> dead.stream().findFirst());
    assertEquals("x", new String(d.message().body(), StandardCharsets.UTF_8));
    assertTrue(
        d.message().headers().get("x-death").toString().contains("reason=rejected"),
        d.message().headers().toString());
    d.ack();
  }

  @Test
  void queueThatExistsWithOtherArgumentsIsUsedAsItIsAndReported() {
    Topology classic =
        new Topology(
            List.of(),
            List.of(new Topology.Queue(queue, Map.of("x-queue-type", "classic"))),
            List.of());
    broker.declare(classic);

    List<String> mismatches = broker.declare(LovageTopology.taskQueue(queue));

    assertEquals(1, mismatches.size(), mismatches.toString());
    assertTrue(mismatches.get(0).contains("PRECONDITION_FAILED"), mismatches.get(0));
    broker.publish(LovageTopology.TASK_EXCHANGE, queue, Message.json(new byte[0], Map.of())).join();
  }

  @Test
  void aTransientQueueIsExclusiveToTheConnectionThatDeclaredIt() throws Exception {
    broker.declare(
        new Topology(List.of(), List.of(new Topology.Queue(queue, false, Map.of())), List.of()));

    var factory = new com.rabbitmq.client.ConnectionFactory();
    factory.setUri(RabbitFixture.uri());
    try (var other = factory.newConnection("another client")) {
      var channel = other.createChannel();
      java.io.IOException locked =
          assertThrows(java.io.IOException.class, () -> channel.queueDeclarePassive(queue));
      assertTrue(
          String.valueOf(locked.getCause()).contains("RESOURCE_LOCKED"),
          "RabbitMQ 4.3 refuses transient queues that are not exclusive: " + locked.getCause());
    }
  }

  /**
   * One restart for two behaviours (a broker restart costs seconds, and on RabbitMQ 4.0.5 sometimes
   * a whole node start): the transient topology and consumers come back, and a delivery of the lost
   * channel is no longer held while its redelivery is.
   */
  @Test
  void afterABrokerRestartTransientTopologyIsBackAndOnlyTheRedeliveryOfAHeldMessageIsHeld() {
    String exchange = "test.transient." + queue;
    String durable = queue + ".durable";
    broker.declare(
        new Topology(
            List.of(new Topology.Exchange(exchange, "fanout", false)),
            List.of(new Topology.Queue(queue, false, Map.of())),
            List.of(new Topology.Binding(exchange, queue, ""))));
    List<Delivery> received = new CopyOnWriteArrayList<>();
    broker.consume(
        queue,
        ConsumeOptions.prefetch(10),
        delivery -> {
          received.add(delivery);
          delivery.ack();
        });
    broker.declare(LovageTopology.taskQueue(durable));
    List<Delivery> held = new CopyOnWriteArrayList<>();
    broker.consume(durable, ConsumeOptions.prefetch(1), held::add); // never settled
    broker.publish("", durable, Message.json(new byte[] {'1'}, Map.of())).join();
    Await.until(Duration.ofSeconds(10), "the delivery", () -> held.size() == 1);
    assertTrue(held.getFirst().held());

    RabbitFixture.restartBroker();

    Await.until(
        Duration.ofSeconds(60),
        "a message through the transient exchange after the restart",
        () -> {
          try {
            broker.publish(exchange, "", Message.json(new byte[] {'1'}, Map.of())).join();
          } catch (RuntimeException notYetRecovered) {
            return false;
          }
          return !received.isEmpty();
        });
    // The lost channel's delivery is back in the queue and comes again, on the recovered channel:
    // that one is held, the first is not (a scheduler lease, say, is the second one's now).
    Await.until(Duration.ofSeconds(60), "the redelivery", () -> held.size() == 2);
    assertEquals(false, held.getFirst().held());
    assertTrue(held.get(1).held());
    held.get(1).ack();
    RabbitFixture.deleteExchanges(exchange);
    RabbitFixture.deleteTaskQueue(durable);
  }

  @Test
  void codeTopologyMatchesWhatTheBrokerHasForTheDefaultQueue() {
    // On CI the broker was loaded with broker-config/definitions.json: any difference shows here.
    assertEquals(
        List.of(), broker.declare(LovageTopology.forQueues(List.of(LovageTopology.DEFAULT_QUEUE))));
  }
}
