package io.lovage.result;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.TaskState;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.testing.Await;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReplyRecorderTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private final InMemoryBroker broker = new InMemoryBroker();
  private final EventStreamResultStore store = follow();
  private final ReplyRecorder recorder =
      new ReplyRecorder(
              broker,
              new TaskEvents(broker, "producer-1", Clock.systemUTC()),
              store,
              Duration.ofMillis(50))
          .start();

  @AfterEach
  void close() {
    recorder.close();
    store.close();
  }

  @Test
  void aSuccessThatOnlyARpcReplyCarriesIsRecordedForEveryReplica() {
    EventStreamResultStore otherReplica = follow();

    reply("t1", "{\"task_id\": \"t1\", \"status\": \"SUCCESS\", \"result\": 5}");

    Await.until(WAIT, "the other replica to know t1", () -> finished(otherReplica, "t1"));
    assertEquals(5, otherReplica.find("t1").orElseThrow().result().asInt());
    // Counted once its event is confirmed, which may be after another replica has read it.
    Await.until(WAIT, "the recording counted", () -> recorder.recorded() == 1);
    otherReplica.close();
  }

  @Test
  void aFailureThatOnlyARpcReplyCarriesIsRecordedWithItsTypeAndTraceback() {
    reply(
        "t2",
        "{\"task_id\": \"t2\", \"status\": \"FAILURE\", \"result\": {\"exc_type\": \"ValueError\","
            + " \"exc_message\": [\"boom\"], \"exc_module\": \"builtins\"}, \"traceback\":"
            + " \"Traceback (most recent call last):\\nValueError: boom\"}");

    Await.until(WAIT, "t2 recorded", () -> finished(store, "t2"));
    TaskRecord record = store.find("t2").orElseThrow();
    assertEquals(TaskState.FAILURE, record.state());
    assertEquals("ValueError", record.error().type());
    assertEquals("boom", record.error().message());
  }

  @Test
  void aReplyForAnOutcomeAWorkerEventRecordedIsNotRecordedAgain() {
    new TaskEvents(broker, "worker-1", Clock.systemUTC())
        .succeeded(
            TaskMessage.builder("demo.add").id("t3").build(), Json.MAPPER.valueToTree(5), 0.1, null)
        .join();
    Await.until(WAIT, "the worker's event read", () -> finished(store, "t3"));

    reply("t3", "{\"task_id\": \"t3\", \"status\": \"SUCCESS\", \"result\": 5}");

    Await.until(WAIT, "the reply handled", () -> recorder.known() == 1);
    assertEquals(0, recorder.recorded());
    assertEquals("worker-1", store.find("t3").orElseThrow().worker());
  }

  @Test
  void aWorkerNeedNotAnswerARecordedReplyQueueButMustAnswerAClients() {
    assertEquals(true, ReplyRecorder.recordsEvents(recorder.queue()));
    assertEquals(false, ReplyRecorder.recordsEvents("lovage.reply.1234"));
    assertEquals(false, ReplyRecorder.recordsEvents(null));
  }

  private EventStreamResultStore follow() {
    broker.declare(LovageTopology.events());
    return new EventStreamResultStore(1_000, Duration.ofHours(1), Clock.systemUTC()).follow(broker);
  }

  private static boolean finished(EventStreamResultStore records, String id) {
    return records.find(id).map(r -> r.state().isFinal()).orElse(false);
  }

  private void reply(String taskId, String body) {
    broker
        .publish(
            "",
            recorder.queue(),
            new Message(
                body.getBytes(StandardCharsets.UTF_8),
                Map.of(),
                "application/json",
                "utf-8",
                taskId,
                null,
                0,
                false))
        .join();
  }
}
