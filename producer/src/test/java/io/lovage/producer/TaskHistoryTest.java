package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.broker.Broker;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.ReplyRecorder;
import io.lovage.result.TaskEvents;
import io.lovage.testing.Await;
import io.lovage.testing.ForwardingBroker;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micronaut.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A producer that has just started reads the task history from the event stream before it knows
 * older tasks. Until then it does not claim a task is unknown, nor send a second task for an
 * Idempotency-Key it may not have read yet: it answers 503 with Retry-After.
 */
class TaskHistoryTest {
  private static final byte[] NOOP = "{\"task\": \"demo.noop\"}".getBytes(StandardCharsets.UTF_8);

  private final InMemoryBroker broker = new InMemoryBroker();
  private final EventStreamResultStore results =
      new EventStreamResultStore(100, Duration.ofHours(1), Clock.systemUTC());

  TaskHistoryTest() {
    broker.declare(LovageTopology.events());
    broker.declare(LovageTopology.taskQueue(LovageTopology.DEFAULT_QUEUE));
  }

  @AfterEach
  void close() {
    results.close();
    broker.close();
  }

  @Test
  void aTaskNotReadYetAnswers503WithRetryAfterInsteadOf404() {
    TaskController tasks = controller(new HistoryNeverRead(broker));

    HttpResponse<String> lookup = tasks.get("some-earlier-task");
    HttpResponse<String> revoke = tasks.revoke("some-earlier-task", false);

    assertEquals(503, lookup.code());
    assertEquals("1", lookup.header("Retry-After"));
    assertTrue(lookup.body().contains("still reading the task history"), lookup.body());
    assertEquals(503, revoke.code());
  }

  @Test
  void anIdempotencyKeyNotReadYetSendsNoTaskAndAnswers503() {
    TaskController tasks = controller(new HistoryNeverRead(broker));

    HttpResponse<String> keyed = tasks.submit(NOOP, "order-42");

    assertEquals(503, keyed.code());
    assertEquals(0, broker.ready(LovageTopology.DEFAULT_QUEUE), "no task sent");
    assertEquals(202, tasks.submit(NOOP, null).code(), "a submit without a key goes ahead");
  }

  @Test
  void onceTheHistoryIsReadAnUnknownTaskIs404() {
    TaskController tasks = controller(broker);
    Await.until(Duration.ofSeconds(10), "history read", results::caughtUp);

    assertEquals(404, tasks.get("never-sent").code());
  }

  @Test
  void theHistoryReadMetricIsZeroWhileTheHistoryIsReadAndOneAfter() {
    results.follow(new HistoryNeverRead(broker));
    try (WorkflowStore workflows =
            new WorkflowStore(broker, 100, Duration.ofHours(1), Clock.systemUTC()).follow();
        EventStreamResultStore read =
            new EventStreamResultStore(100, Duration.ofHours(1), Clock.systemUTC())
                .follow(broker)) {
      Gauge reading = historyRead(results, workflows);
      Gauge done = historyRead(read, workflows);

      assertEquals(0, reading.value());
      Await.until(Duration.ofSeconds(10), "history read", () -> done.value() == 1);
    }
  }

  private static Gauge historyRead(EventStreamResultStore results, WorkflowStore workflows) {
    var registry = new SimpleMeterRegistry();
    new ProducerFactory().historyMetrics(results, workflows).bindTo(registry);
    return registry.get("lovage.results.history.read").gauge();
  }

  private TaskController controller(Broker through) {
    results.follow(through);
    return new TaskController(
        new TaskClient(broker, "test"),
        results,
        new ReplyRecorder(
            broker,
            new TaskEvents(broker, "test", java.time.Clock.systemUTC()),
            results,
            ReplyRecorder.DEFAULT_GRACE));
  }

  /** A broker on which the store's catch-up marker never arrives: a very long history. */
  private static final class HistoryNeverRead extends ForwardingBroker {
    HistoryNeverRead(Broker inner) {
      super(inner);
    }

    @Override
    public CompletableFuture<Void> publish(String exchange, String key, Message message) {
      return exchange.isEmpty()
          ? CompletableFuture.completedFuture(null)
          : inner.publish(exchange, key, message);
    }
  }
}
