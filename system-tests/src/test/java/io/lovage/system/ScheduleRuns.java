package io.lovage.system;

import io.lovage.broker.CatchUpMarker;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.Json;
import io.lovage.schedule.Scheduler;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;

/**
 * The runs of one schedule, counted twice over: as sent (the scheduler's runs stream, where each
 * run's message lands in the publish that queues it) and as run (the worker's mark file). Every
 * second between the first run and the last is expected once.
 *
 * @param counts expected (submitted), sent (confirmed), ran (completed), missed (lost), ran twice
 * @param sentTwice scheduled times sent more than once
 * @param maxLateness the latest a run was sent after its scheduled time (the longest failover);
 *     zero when the deliveries carry no stream timestamp (RabbitMQ 3.10 and 4.0 over AMQP 0-9-1)
 */
record ScheduleRuns(
    Counts counts, long sentTwice, Instant first, Instant last, Duration maxLateness) {

  /** Waits until the worker has run what was sent (no new mark for 2 s), then counts. */
  static ScheduleRuns read(
      RabbitFixture.Vhost vhost, String schedule, Ledger ledger, Instant from, Instant to) {
    Await.until(
        Duration.ofSeconds(60),
        "the worker to run what was sent",
        () -> {
          try {
            return Files.size(ledger.marks()) > 0
                && Files.getLastModifiedTime(ledger.marks())
                    .toInstant()
                    .isBefore(Instant.now().minusSeconds(2));
          } catch (IOException e) {
            return false;
          }
        });
    Map<Instant, Long> sent = new ConcurrentHashMap<>();
    AtomicLong latest = new AtomicLong();
    try (RabbitBroker broker = vhost.connect("fault suite runs reader")) {
      CatchUpMarker marker = new CatchUpMarker();
      broker.consume(
          LovageTopology.SCHEDULE_RUNS_STREAM,
          ConsumeOptions.prefetch(500).withArgument("x-stream-offset", "first"),
          delivery -> {
            Map<String, Object> headers = delivery.message().headers();
            if (schedule.equals(headers.get(Scheduler.SCHEDULE_HEADER))
                && headers.get(Scheduler.SCHEDULED_HEADER) instanceof String at) {
              Instant scheduled = Instant.parse(at);
              sent.merge(scheduled, 1L, Long::sum);
              // Only when the delivery carries the entry's stream timestamp (not over AMQP 0-9-1 on
              // RabbitMQ 3.10 or 4.0).
              if (headers.get("x-stream-timestamp") instanceof Number millis) {
                latest.accumulateAndGet(millis.longValue() - scheduled.toEpochMilli(), Math::max);
              }
            } else if (delivery.message().body().length > 0) {
              JsonNode body = Json.MAPPER.readTree(delivery.message().body());
              if (body.isObject()) {
                marker.isMarker(body);
              }
            }
            delivery.ack();
          });
      marker.append(broker, LovageTopology.SCHEDULE_RUNS_STREAM).join();
      Await.until(Duration.ofSeconds(30), "the runs stream read to its end", marker::caughtUp);
    }
    List<Instant> times = sent.keySet().stream().sorted().toList();
    Instant first = times.isEmpty() ? from : times.getFirst();
    Instant last = times.isEmpty() ? from : times.getLast();
    int expected = times.isEmpty() ? 0 : (int) Duration.between(first, last).toSeconds() + 1;

    Map<String, Instant> byId =
        times.stream().collect(Collectors.toMap(t -> Scheduler.runId(schedule, t), t -> t));
    Map<String, Long> ran =
        ledger.runs().values().stream()
            .flatMap(List::stream)
            .collect(Collectors.groupingBy(Ledger.Run::taskId, Collectors.counting()));
    int ranOnce = (int) ran.keySet().stream().filter(byId::containsKey).count();
    int ranTwice = (int) ran.values().stream().filter(n -> n > 1).count();
    int ranUnsent = (int) ran.keySet().stream().filter(id -> !byId.containsKey(id)).count();
    Counts counts =
        new Counts(
            expected,
            sent.values().stream().mapToInt(Long::intValue).sum(),
            0,
            ranOnce,
            0,
            expected - ranOnce,
            0,
            ranTwice,
            ranUnsent,
            Map.of());
    return new ScheduleRuns(
        counts,
        sent.values().stream().filter(n -> n > 1).count(),
        first,
        last,
        Duration.ofMillis(latest.get()));
  }
}
