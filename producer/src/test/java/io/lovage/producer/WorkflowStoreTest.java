package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.broker.Broker;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.result.EventStreamResultStore;
import io.lovage.testing.Await;
import io.lovage.testing.ForwardingBroker;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Workflow records in the event stream: every producer, also one started later, reads them. */
class WorkflowStoreTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  private final InMemoryBroker broker = new InMemoryBroker();
  private final List<AutoCloseable> closing = new ArrayList<>();

  WorkflowStoreTest() {
    broker.declare(LovageTopology.events());
  }

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closing) {
      c.close();
    }
    broker.close();
  }

  @Test
  void aWorkflowIsFoundByAProducerThatStartsLaterFromTheStream() {
    WorkflowStore first = store(broker, 1_000);
    WorkflowTree tree = chainOf("a", "b");
    first.append("wf-1", tree).join();
    assertEquals(tree, first.find("wf-1").orElseThrow().tree(), "found at once by its sender");

    WorkflowStore restarted = store(broker, 1_000);
    Await.until(WAIT, "history read", restarted::caughtUp);

    assertEquals(tree, restarted.find("wf-1").orElseThrow().tree());
    assertTrue(restarted.find("wf-2").isEmpty());
  }

  @Test
  void theRecordGoesThroughTheDefaultExchangeSoCeleryEventReceiversNeverSeeIt() {
    List<String> publishedTo = new ArrayList<>();
    Broker recording =
        new ForwardingBroker(broker) {
          @Override
          public CompletableFuture<Void> publish(String exchange, String key, Message message) {
            publishedTo.add(exchange + "/" + key);
            return inner.publish(exchange, key, message);
          }
        };
    WorkflowStore store =
        new WorkflowStore(recording, 1_000, Duration.ofHours(1), Clock.systemUTC());
    closing.add(store);

    store.append("wf-1", chainOf("a")).join();

    assertEquals(List.of("/" + LovageTopology.EVENT_STREAM), publishedTo);
    // ...and the result store, reading the same stream, takes it for no task.
    EventStreamResultStore results =
        new EventStreamResultStore(100, Duration.ofHours(1), Clock.systemUTC()).follow(broker);
    closing.add(results);
    Await.until(WAIT, "results read", results::caughtUp);
    assertTrue(results.recent(null, null, 0, 10).isEmpty());
  }

  @Test
  void pastMaxTasksTheOldestWorkflowsAreForgottenFirst() {
    WorkflowStore store = store(broker, 5);

    store.append("old", chainOf("a", "b", "c")).join();
    store.append("new", chainOf("d", "e", "f")).join();

    assertFalse(store.find("old").isPresent());
    assertTrue(store.find("new").isPresent());
    assertEquals("new", store.workflowOf("e-id").orElseThrow(), "a task leads to its workflow");
    assertTrue(store.workflowOf("a-id").isEmpty(), "and not to one forgotten");
  }

  @Test
  void aRecordThatIsNotAWorkflowIsSkippedAndReadingGoesOn() {
    publish("{\"type\": \"lovage-workflow\", \"id\": \"broken\", \"tree\": 5}");
    publish("[{\"type\": \"task-sent\", \"uuid\": \"t1\"}]");
    WorkflowStore first = store(broker, 1_000);
    first.append("wf-1", chainOf("a")).join();

    WorkflowStore second = store(broker, 1_000);
    Await.until(WAIT, "history read", second::caughtUp);

    assertTrue(second.find("wf-1").isPresent());
    assertTrue(second.find("broken").isEmpty());
  }

  private void publish(String json) {
    broker
        .publish(
            "",
            LovageTopology.EVENT_STREAM,
            Message.json(json.getBytes(StandardCharsets.UTF_8), Map.of()))
        .join();
  }

  private WorkflowStore store(Broker through, int maxTasks) {
    WorkflowStore store =
        new WorkflowStore(through, maxTasks, Duration.ofHours(1), Clock.systemUTC()).follow();
    closing.add(store);
    return store;
  }

  private static WorkflowTree chainOf(String... names) {
    List<WorkflowTree> steps = new ArrayList<>();
    for (String name : names) {
      steps.add(new WorkflowTree.Task(name + "-id", name));
    }
    return new WorkflowTree.Chain(steps);
  }
}
