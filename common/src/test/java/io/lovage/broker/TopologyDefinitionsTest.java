package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.protocol.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** broker-config/definitions.json and the topology the code declares are the same topology. */
class TopologyDefinitionsTest {
  private static final Path DEFINITIONS = Path.of("..", "broker-config", "definitions.json");

  private final JsonNode definitions = Json.MAPPER.readTree(read());
  private final Topology code = LovageTopology.forQueues(List.of(LovageTopology.DEFAULT_QUEUE));

  @Test
  void definitionsDeclareTheSameExchangesAsTheCode() {
    Set<Topology.Exchange> fromFile =
        stream("exchanges")
            .map(e -> new Topology.Exchange(e.get("name").asString(), e.get("type").asString()))
            .collect(Collectors.toSet());

    assertEquals(Set.copyOf(code.exchanges()), fromFile);
    stream("exchanges")
        .forEach(e -> assertEquals(true, e.get("durable").asBoolean(), e.toString()));
  }

  @Test
  void definitionsDeclareTheSameQueuesWithTheSameArgumentsAsTheCode() {
    Map<String, JsonNode> fromFile =
        stream("queues")
            .collect(Collectors.toMap(q -> q.get("name").asString(), q -> q.get("arguments")));
    Map<String, JsonNode> fromCode =
        code.queues().stream()
            .collect(Collectors.toMap(Topology.Queue::name, q -> asJson(q.arguments())));

    assertEquals(fromCode, fromFile);
    stream("queues").forEach(q -> assertEquals(true, q.get("durable").asBoolean(), q.toString()));
  }

  @Test
  void definitionsDeclareTheSameBindingsAsTheCode() {
    Set<Topology.Binding> fromFile =
        stream("bindings")
            .map(
                b ->
                    new Topology.Binding(
                        b.get("source").asString(),
                        b.get("destination").asString(),
                        b.get("routing_key").asString()))
            .collect(Collectors.toSet());

    assertEquals(Set.copyOf(code.bindings()), fromFile);
  }

  /** Through text and back, so that a Long and an int of the same value compare equal. */
  private static JsonNode asJson(Map<String, Object> arguments) {
    return Json.MAPPER.readTree(Json.MAPPER.writeValueAsString(arguments));
  }

  private java.util.stream.Stream<JsonNode> stream(String field) {
    return definitions.get(field).valueStream();
  }

  private static String read() {
    try {
      return Files.readString(DEFINITIONS);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot read " + DEFINITIONS.toAbsolutePath(), e);
    }
  }
}
