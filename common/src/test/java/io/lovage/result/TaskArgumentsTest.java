package io.lovage.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.SettableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.node.ObjectNode;

class TaskArgumentsTest {
  @Test
  void wholeArgumentsAreReadBackAsTheJsonTheTaskWasSentWith() {
    TaskArguments arguments =
        TaskArguments.of(
            Json.MAPPER.valueToTree(new Object[] {2, "x"}),
            Json.MAPPER.valueToTree(Map.of("k", true)));

    assertFalse(arguments.truncated());
    assertEquals("[2,\"x\"]", arguments.argsJson());
    assertEquals(Json.MAPPER.valueToTree(new Object[] {2, "x"}), arguments.args().orElseThrow());
    assertTrue(arguments.kwargs().orElseThrow().get("k").asBoolean());
  }

  @Test
  void argumentsLongerThanOneKilobyteAreCutMarkedTruncatedAndNotReadBack() {
    TaskArguments arguments =
        TaskArguments.of(
            Json.MAPPER.valueToTree(new Object[] {"a".repeat(5000)}),
            Json.MAPPER.createObjectNode());

    assertTrue(arguments.truncated());
    assertEquals(TaskArguments.MAX_CHARS, arguments.argsJson().length());
    assertTrue(arguments.args().isEmpty(), "a cut text is never sent again as the arguments");
  }

  @Test
  void anEventCarriesTheArgumentsAsTextBesideCeleryReprsAndTheStoreKeepsThem() {
    ObjectNode event = Json.MAPPER.createObjectNode();
    event.put("type", "task-sent").put("uuid", "t1").put("name", "demo.add");
    event.put("args", "[1, 2]").put("kwargs", "{}");
    TaskArguments.of(Json.MAPPER.valueToTree(new int[] {1, 2}), Json.MAPPER.createObjectNode())
        .writeTo(event);
    assertTrue(event.get("args_json").isString(), "text, no type names: " + event);
    EventStreamResultStore store =
        new EventStreamResultStore(10, Duration.ofHours(1), new SettableClock(Instant.EPOCH));

    store.apply(event);
    store.apply(Json.MAPPER.readTree("{\"type\": \"task-started\", \"uuid\": \"t1\"}"));

    TaskArguments kept = store.find("t1").orElseThrow().arguments();
    assertEquals("[1,2]", kept.argsJson());
    assertEquals("{}", kept.kwargsJson());
    assertFalse(kept.truncated());
  }

  @Test
  void aCeleryClientsEventWithoutArgumentsJsonLeavesThemUnknown() {
    EventStreamResultStore store =
        new EventStreamResultStore(10, Duration.ofHours(1), new SettableClock(Instant.EPOCH));

    store.apply(
        Json.MAPPER.readTree(
            "{\"type\": \"task-sent\", \"uuid\": \"t1\", \"name\": \"x\", \"args\": \"(1,)\"}"));

    assertEquals(null, store.find("t1").orElseThrow().arguments());
  }
}
