package io.lovage.system;

import io.lovage.Canvas;
import io.lovage.Signature;
import io.lovage.TaskClient;
import io.lovage.TaskFuture;
import io.lovage.broker.RabbitBroker;
import io.lovage.testing.RabbitFixture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * A chord of {@code demo.mark} header tasks with a {@code demo.tally} body, sent from Java for the
 * fault-injection suite: the mark file tells how often each header task and the body ran, the
 * producer what the body answered.
 */
final class ChordRun implements AutoCloseable {
  private final Ledger ledger;
  private final int size;
  private final RabbitBroker broker;
  private final TaskClient client;
  private final List<String> headerKeys = new ArrayList<>();
  private final String bodyKey;
  private String bodyId;

  ChordRun(Ledger ledger, int size) {
    this.ledger = ledger;
    this.size = size;
    this.broker = RabbitFixture.connect("faults-chord");
    this.client = new TaskClient(broker, "faults-chord");
    this.bodyKey = ledger.scenario() + "-body";
  }

  /** Sends the chord; header tasks sleep {@code seconds} so that a fault falls among them. */
  ChordRun submit(double seconds) {
    List<Canvas> header = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      String key = ledger.scenario() + "-" + i;
      headerKeys.add(key);
      header.add(Signature.of("demo.mark", key, seconds).toQueue(ledger.queue()));
    }
    Signature body =
        new Signature("demo.tally", null, null, ledger.queue(), false)
            .withKwargs(Map.of("key", bodyKey));
    TaskFuture future = client.submit(Canvas.chord(header, body), ledger.queue());
    bodyId = future.id();
    return this;
  }

  /** Header tasks that have run at least once. */
  long headerRan() {
    var runs = ledger.runs();
    return headerKeys.stream().filter(runs::containsKey).count();
  }

  /** What the producer says of the body once it finished, within {@code timeout}. */
  Optional<JsonNode> awaitBody(AppProcess producer, Duration timeout) {
    JsonNode[] found = new JsonNode[1];
    Deadline.poll(
        timeout,
        () -> {
          Optional<JsonNode> record = producer.task(bodyId);
          boolean done =
              record.isPresent()
                  && List.of("SUCCESS", "FAILURE", "REVOKED")
                      .contains(record.get().path("state").asString());
          if (done) {
            found[0] = record.get();
          }
          return done;
        });
    return Optional.ofNullable(found[0]);
  }

  /**
   * The counts: header tasks and the body, submitted and confirmed; completed = ran (header) or
   * SUCCESS with every result in header order (body); ran twice from the mark file.
   */
  Counts counts(Optional<JsonNode> body) {
    var runs = ledger.runs();
    int ranHeader = (int) headerKeys.stream().filter(runs::containsKey).count();
    int ranTwice = (int) runs.values().stream().filter(r -> r.size() > 1).count();
    boolean bodyOk = body.isPresent() && bodyCorrect(body.get());
    int completed = ranHeader + (bodyOk ? 1 : 0);
    int lost = size + 1 - completed;
    return new Counts(
        size + 1,
        size + 1,
        0,
        completed,
        0,
        lost,
        0,
        ranTwice,
        0,
        body.map(b -> Map.of(b.path("state").asString(), 1L))
            .filter(m -> !bodyOk)
            .orElse(Map.of()));
  }

  /** The body succeeded with one result per header task, each its key, in header order. */
  boolean bodyCorrect(JsonNode body) {
    JsonNode result = body.path("result");
    if (!"SUCCESS".equals(body.path("state").asString()) || result.size() != size) {
      return false;
    }
    for (int i = 0; i < size; i++) {
      if (!headerKeys.get(i).equals(result.get(i).asString())) {
        return false;
      }
    }
    return true;
  }

  /** How often the body's code ran. */
  int bodyRuns() {
    return ledger.runs().getOrDefault(bodyKey, List.of()).size();
  }

  @Override
  public void close() {
    client.close();
    broker.close();
  }
}
