package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

class RecordStreamTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final InMemoryBroker broker = new InMemoryBroker();

  @AfterEach
  void stop() {
    broker.close();
  }

  @Test
  void aReaderStartedLaterReadsEveryRecordFromTheStartAndIsCaughtUpAfterThem() throws Exception {
    broker.declare(LovageTopology.limits());
    RecordStream writer = new RecordStream(broker, LovageTopology.LIMITS_STREAM, "test");
    writer.append(record("first")).join();
    writer.append(record("second")).join();

    List<String> read = new CopyOnWriteArrayList<>();
    RecordStream reader =
        new RecordStream(broker, LovageTopology.LIMITS_STREAM, "test")
            .follow(record -> read.add(record.path("name").asString()));

    assertTrue(reader.awaitCaughtUp(WAIT), "caught up");
    assertEquals(List.of("first", "second"), read, "in order, without the marker");
    reader.close();
  }

  @Test
  void aRecordThatIsNotJsonOrThatItsReaderRefusesIsSkippedAndTheNextOneIsRead() throws Exception {
    broker.declare(LovageTopology.limits());
    broker
        .publish(
            "",
            LovageTopology.LIMITS_STREAM,
            Message.json("{not json".getBytes(StandardCharsets.UTF_8), Map.of()))
        .join();
    List<String> read = new CopyOnWriteArrayList<>();
    RecordStream stream =
        new RecordStream(broker, LovageTopology.LIMITS_STREAM, "test")
            .follow(
                record -> {
                  if (record.path("name").asString().equals("bad")) {
                    throw new IllegalArgumentException("refused in a test");
                  }
                  read.add(record.path("name").asString());
                });
    stream.append(record("bad")).join();

    stream.appendAndReadBack(record("good"), WAIT).join();

    assertEquals(List.of("good"), read);
    stream.close();
  }

  @Test
  void aRecordAppendedAndReadBackHasBeenGivenToTheReaderWhenItsFutureCompletes() {
    broker.declare(LovageTopology.limits());
    List<JsonNode> read = new CopyOnWriteArrayList<>();
    RecordStream stream =
        new RecordStream(broker, LovageTopology.LIMITS_STREAM, "test").follow(read::add);

    stream.appendAndReadBack(record("x"), WAIT).join();

    assertEquals("x", read.getLast().path("name").asString());
    stream.close();
  }

  private static ObjectNode record(String name) {
    ObjectNode record = Json.MAPPER.createObjectNode();
    record.put("name", name);
    return record;
  }
}
