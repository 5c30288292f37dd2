package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * broker-config/definitions.json and the topology the code declares are the same topology. On a
 * difference the test writes what the file should be to target/definitions.json.
 */
class TopologyDefinitionsTest {
  private static final Path DEFINITIONS = Path.of("..", "broker-config", "definitions.json");
  private static final Path EXPECTED = Path.of("target", "definitions.json");

  @Test
  void definitionsFileHoldsExactlyTheTopologyTheCodeDeclaresForTheDefaultQueueAndItsUrgentLane()
      throws IOException {
    JsonNode file = Json.MAPPER.readTree(Files.readString(DEFINITIONS));
    // The urgent lane is used on RabbitMQ 3.x only, but apps that may not declare it
    // (LOVAGE_TOPOLOGY=verify) find it there whatever the version.
    ObjectNode expected =
        render(
            LovageTopology.forQueues(List.of(LovageTopology.DEFAULT_QUEUE))
                .plus(LovageTopology.urgentLaneOf(LovageTopology.DEFAULT_QUEUE)),
            file);

    if (!expected.equals(file)) {
      Files.writeString(
          EXPECTED,
          Json.MAPPER.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsString(expected));
    }
    assertTrue(
        expected.equals(file),
        "broker-config/definitions.json differs from LovageTopology; the expected file is at "
            + EXPECTED.toAbsolutePath());
  }

  /** The topology as RabbitMQ definitions, keeping the file's users, vhosts and permissions. */
  static ObjectNode render(Topology topology, JsonNode file) {
    ObjectNode out = Json.MAPPER.createObjectNode();
    for (String kept : List.of("users", "vhosts", "permissions", "policies")) {
      out.set(kept, file.get(kept));
    }
    ArrayNode exchanges = out.putArray("exchanges");
    topology
        .exchanges()
        .forEach(
            e -> {
              ObjectNode x = exchanges.addObject();
              x.put("name", e.name());
              x.put("vhost", "/");
              x.put("type", e.type());
              x.put("durable", true);
              x.put("auto_delete", false);
              x.put("internal", false);
              x.putObject("arguments");
            });
    ArrayNode queues = out.putArray("queues");
    topology
        .queues()
        .forEach(
            q -> {
              ObjectNode x = queues.addObject();
              x.put("name", q.name());
              x.put("vhost", "/");
              x.put("durable", q.durable());
              x.put("auto_delete", false);
              // Through text and back, so that a Long and an int of the same value compare equal.
              x.set(
                  "arguments",
                  Json.MAPPER.readTree(
                      Json.MAPPER.writeValueAsString(new java.util.TreeMap<>(q.arguments()))));
            });
    ArrayNode bindings = out.putArray("bindings");
    topology
        .bindings()
        .forEach(
            b -> {
              ObjectNode x = bindings.addObject();
              x.put("source", b.source());
              x.put("vhost", "/");
              x.put("destination", b.destination());
              x.put("destination_type", b.toExchange() ? "exchange" : "queue");
              x.put("routing_key", b.routingKey());
              x.putObject("arguments");
            });
    return out;
  }
}
