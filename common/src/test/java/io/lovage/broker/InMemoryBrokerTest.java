package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The in-memory broker settles a message taken with get as RabbitMQ does a delivery. */
class InMemoryBrokerTest {

  @Test
  void aMessageTakenWithGetAndRejectedGoesToItsQueuesDeadLettersAndARequeuedOneToItsHead() {
    try (InMemoryBroker broker = new InMemoryBroker()) {
      broker.declare(
          new Topology(
              List.of(),
              List.of(
                  new Topology.Queue("dead", Map.of()),
                  new Topology.Queue(
                      "work",
                      Map.of("x-dead-letter-exchange", "", "x-dead-letter-routing-key", "dead"))),
              List.of()));
      broker.publish("", "work", Message.text("first")).join();
      broker.publish("", "work", Message.text("second")).join();

      broker.get("work").orElseThrow().reject();
      Delivery second = broker.get("work").orElseThrow();
      second.requeue();

      assertEquals(1, broker.ready("dead"), "the rejected one");
      assertEquals(List.of("second"), text(broker.messages("work")));
      assertEquals(1, broker.get("work").orElseThrow().deliveryCount(), "delivered again");
    }
  }

  private static List<String> text(List<Message> messages) {
    return messages.stream()
        .map(m -> new String(m.body(), java.nio.charset.StandardCharsets.UTF_8))
        .toList();
  }
}
