package io.lovage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UniqueTest {
  private static TaskMessage call(String task, String args, String kwargs) {
    return TaskMessage.builder(task)
        .args((tools.jackson.databind.node.ArrayNode) Json.MAPPER.readTree(args))
        .kwargs((tools.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(kwargs))
        .build();
  }

  @Test
  void equalArgumentsGiveTheSameLockWhateverTheOrderOfObjectFields() {
    Unique unique = Unique.byArguments();
    String lock =
        unique.lockFor(
            call("reports.build", "[1, {\"a\": 1, \"b\": [true]}]", "{\"x\": 1, \"y\": 2}"));

    assertEquals(
        lock,
        unique.lockFor(
            call("reports.build", "[1, {\"b\": [true], \"a\": 1}]", "{\"y\": 2, \"x\": 1}")));
    assertEquals(64, lock.length());
    assertEquals(lock, lock.toLowerCase(java.util.Locale.ROOT));
  }

  @Test
  void otherArgumentsOrAnotherTaskNameGiveAnotherLock() {
    Unique unique = Unique.byArguments();
    String lock = unique.lockFor(call("reports.build", "[1, 2]", "{}"));

    assertNotEquals(lock, unique.lockFor(call("reports.build", "[2, 1]", "{}")));
    assertNotEquals(lock, unique.lockFor(call("reports.mail", "[1, 2]", "{}")));
    assertNotEquals(lock, unique.lockFor(call("reports.build", "[1, 2]", "{\"x\": null}")));
    // Moving an argument from args to kwargs is another call.
    assertNotEquals(
        unique.lockFor(call("t", "[]", "{\"a\": 1}")),
        unique.lockFor(call("t", "[{\"a\": 1}]", "{}")));
  }

  @Test
  void anExplicitKeyIgnoresTheArgumentsButNotTheTaskName() {
    Unique unique = Unique.key("invoice-42");

    assertEquals(
        unique.lockFor(call("billing.charge", "[1]", "{}")),
        unique.lockFor(call("billing.charge", "[2]", "{\"z\": 3}")));
    assertNotEquals(
        unique.lockFor(call("billing.charge", "[1]", "{}")),
        unique.lockFor(call("billing.refund", "[1]", "{}")));
    assertNotEquals(
        unique.lockFor(call("billing.charge", "[1]", "{}")),
        Unique.byArguments().lockFor(call("billing.charge", "[1]", "{}")));
  }

  @Test
  void canonicalJsonSortsNestedObjectFields() {
    assertEquals(
        "{\"a\":[{\"c\":1,\"d\":2}],\"b\":null}",
        Unique.canonical(Json.MAPPER.readTree("{\"b\": null, \"a\": [{\"d\": 2, \"c\": 1}]}")));
  }

  @Test
  void uniqueForIsBoundedAndAKeyIsOneTo200Characters() {
    assertEquals(Duration.ofHours(1), Unique.byArguments().uniqueFor());
    assertEquals(Duration.ofMinutes(5), Unique.key("k").lasting(Duration.ofMinutes(5)).uniqueFor());
    assertThrows(IllegalArgumentException.class, () -> Unique.key(""));
    assertThrows(IllegalArgumentException.class, () -> Unique.key("x".repeat(201)));
    assertThrows(IllegalArgumentException.class, () -> Unique.byArguments().lasting(Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class,
        () -> Unique.byArguments().lasting(Unique.MAX_FOR.plusSeconds(1)));
    assertEquals(Map.of(), TaskMessage.builder("t").build().extraHeaders());
  }
}
