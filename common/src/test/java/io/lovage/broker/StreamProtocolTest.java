package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.stream.Address;
import com.rabbitmq.stream.AddressResolver;
import com.rabbitmq.stream.ConsumerFlowStrategy;
import com.rabbitmq.stream.OffsetSpecification;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StreamProtocolTest {
  private static BrokerSettings settings(String uri) {
    return BrokerSettings.of(uri, "test");
  }

  @Test
  void streamsAreReadOnEachAmqpHostOnPort5552ByDefault() {
    assertEquals(
        List.of(new Address("rabbit", 5552)),
        StreamProtocol.nodes(settings("amqp://u:p@rabbit:5672/vh")));
    assertEquals(
        List.of(new Address("r1", 5552), new Address("r2", 5552)),
        StreamProtocol.nodes(settings("amqp://u:p@rabbit/vh").withAddresses("r1:5672,r2")));
    assertEquals(
        List.of(new Address("rabbit", 5551)), StreamProtocol.nodes(settings("amqps://rabbit")));
  }

  @Test
  void aPortOrStreamAddressesOverrideTheDefaultAndZeroOrOffTurnsTheProtocolOff() {
    assertEquals(
        List.of(new Address("rabbit", 5553)),
        StreamProtocol.nodes(settings("amqp://rabbit").withStreams("5553", null)));
    assertEquals(
        List.of(new Address("localhost", 5552), new Address("localhost", 5562)),
        StreamProtocol.nodes(
            settings("amqp://rabbit").withStreams("", "localhost:5552, localhost:5562")));
    assertEquals(List.of(), StreamProtocol.nodes(settings("amqp://rabbit").withStreams("0", "")));
    assertEquals(List.of(), StreamProtocol.nodes(settings("amqp://rabbit").withStreams("off", "")));
    assertThrows(
        IllegalArgumentException.class, () -> settings("amqp://x").withStreams("port", null));
    assertThrows(
        IllegalArgumentException.class, () -> settings("amqp://x").withStreams(null, "a:1/vh"));
  }

  @Test
  void everyOffsetFormLovageUsesHasAStreamProtocolStart() {
    assertEquals(Optional.of(OffsetSpecification.first()), StreamProtocol.offset("first"));
    assertEquals(Optional.of(OffsetSpecification.last()), StreamProtocol.offset("last"));
    assertEquals(Optional.of(OffsetSpecification.next()), StreamProtocol.offset("next"));
    assertEquals(Optional.of(OffsetSpecification.offset(42)), StreamProtocol.offset(42L));
    // Whole seconds, as AMQP 0.9.1 carries a timestamp.
    assertEquals(
        Optional.of(OffsetSpecification.timestamp(1_700_000_000_000L)),
        StreamProtocol.offset(new Date(1_700_000_000_999L)));
    assertTrue(StreamProtocol.offset("10m").isEmpty());
  }

  @Test
  void advertisedNodesResolveToWhereTheyCanBeReached() {
    Address advertised = new Address("rabbit-2", 5562);
    AddressResolver single = StreamProtocol.resolver(List.of(new Address("lb", 15552)));
    assertEquals(new Address("lb", 15552), single.resolve(advertised));

    AddressResolver local =
        StreamProtocol.resolver(
            List.of(new Address("localhost", 5552), new Address("localhost", 5562)));
    assertEquals(new Address("localhost", 5562), local.resolve(advertised));

    AddressResolver cluster =
        StreamProtocol.resolver(
            List.of(new Address("rabbit-1", 5552), new Address("rabbit-2", 6000)));
    assertEquals(new Address("rabbit-2", 6000), cluster.resolve(advertised));
    assertEquals(new Address("rabbit-3", 5552), cluster.resolve(new Address("rabbit-3", 5552)));
  }

  @Test
  void aReaderResubscribedAfterALostConnectionGetsCreditAgainThoughTheLostChunksWereNeverHandled() {
    StreamProtocol.PrefetchFlow flow = new StreamProtocol.PrefetchFlow(100);
    flow.initialCredits();
    List<Integer> credits = new ArrayList<>();
    // Two chunks of 60 arrive; the connection is lost before any of their messages is handled.
    flow.start(chunk(60, credits));
    flow.start(chunk(60, credits));
    assertEquals(List.of(1), credits, "the second chunk put it at its prefetch: no credit");

    flow.initialCredits(); // the client subscribes again, elsewhere
    credits.clear();
    ConsumerFlowStrategy.MessageProcessedCallback next = flow.start(chunk(60, credits));

    assertEquals(List.of(1), credits, "the new subscription counts only its own chunk");
    for (int i = 0; i < 60; i++) {
      next.processed(null);
    }
    flow.start(chunk(60, credits));
    assertEquals(List.of(1, 1), credits);
  }

  @Test
  void aReaderAtItsPrefetchGetsTheCreditItWasOwedOnceItHasHandledEnough() {
    StreamProtocol.PrefetchFlow flow = new StreamProtocol.PrefetchFlow(100);
    flow.initialCredits();
    List<Integer> credits = new ArrayList<>();
    ConsumerFlowStrategy.MessageProcessedCallback first = flow.start(chunk(60, credits));
    flow.start(chunk(60, credits));
    assertEquals(List.of(1), credits);

    for (int i = 0; i < 21; i++) {
      first.processed(null);
    }

    assertEquals(List.of(1, 1), credits, "below its prefetch again: the owed credit is given");
  }

  private static ConsumerFlowStrategy.Context chunk(long messages, List<Integer> credits) {
    return new ConsumerFlowStrategy.Context() {
      @Override
      public void credits(int n) {
        credits.add(n);
      }

      @Override
      public long messageCount() {
        return messages;
      }

      @Override
      public long chunkId() {
        return 0;
      }
    };
  }
}
