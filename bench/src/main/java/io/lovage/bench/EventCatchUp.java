package io.lovage.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.lovage.broker.BrokerSettings;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.RabbitBroker;
import io.lovage.broker.Subscription;
import io.lovage.protocol.Json;
import io.lovage.result.EventStreamResultStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;

/**
 * Workload 10: how fast a producer replica catches up on the event stream when it starts. A
 * temporary stream gets {@link Profile#catchUpEvents()} task events of about 300 bytes, published
 * over AMQP 0.9.1 as Lovage's workers publish them under load: {@value #EVENTS_PER_MESSAGE} to a
 * message, as a {@code task.multi} JSON array; then it is read from its start over AMQP 0.9.1 and
 * over RabbitMQ's stream protocol, each event parsed and folded into an {@link
 * EventStreamResultStore}'s index as its catch-up does, and once over the stream protocol only
 * counting deliveries (the protocol's ceiling). The stream is deleted afterwards.
 */
final class EventCatchUp {
  private static final Duration READ_TIMEOUT = Duration.ofMinutes(5);
  private static final int PUBLISH_WINDOW = 500;

  /**
   * Events per message. Workers group the events that wait for one publisher confirm into one
   * {@code task.multi} message (see EventBatches); the event stream left by a CI run here held
   * 260,446 events in 23,119 messages (11.3 per message; 30.7 in the messages that were batches, up
   * to 672 under the heaviest load). A catch-up after a busy day reads mostly batches.
   */
  static final int EVENTS_PER_MESSAGE = 30;

  private EventCatchUp() {}

  static void run(BenchContext ctx, Rows rows) {
    int events = ctx.profile().catchUpEvents();
    String stream = "bench.events." + UUID.randomUUID().toString().substring(0, 8);
    String size =
        String.format("%,d events of ~300 B, %d to a message", events, EVENTS_PER_MESSAGE);
    try {
      Lazy<Boolean> published =
          Lazy.of(
              () -> {
                publish(ctx.rabbitUri(), stream, events);
                return Boolean.TRUE;
              });
      rows.measure(
          "Event catch-up over AMQP 0.9.1 (" + size + ", parsed into the result index)",
          "events/s",
          Goal.NONE,
          () -> {
            published.get();
            return read(ctx, stream, events, false, true);
          });
      rows.measure(
          "Event catch-up over the stream protocol (" + size + ", parsed into the result index)",
          "events/s",
          Goal.atLeast(200_000, "≥ 200,000"),
          () -> {
            published.get();
            return read(ctx, stream, events, true, true);
          });
      rows.measure(
          "Event stream read over the stream protocol (" + size + ", deliveries counted only)",
          "events/s",
          Goal.NONE,
          () -> {
            published.get();
            return read(ctx, stream, events, true, false);
          });
    } finally {
      delete(ctx.rabbitUri(), stream);
    }
  }

  /** A task event as Lovage's workers write one: Celery's fields, about 300 bytes of JSON. */
  private static byte[] event(int i) {
    String id = new UUID(0x5eed, i / 4).toString();
    String type =
        switch (i % 4) {
          case 0 -> "task-sent";
          case 1 -> "task-received";
          case 2 -> "task-started";
          default -> "task-succeeded";
        };
    String json =
        "{\"type\":\""
            + type
            + "\",\"uuid\":\""
            + id
            + "\",\"hostname\":\"lovage@bench-worker-1\",\"utcoffset\":0,\"pid\":4242,\"clock\":"
            + i
            + ",\"timestamp\":"
            + (1_790_000_000 + i / 1000.0)
            + ",\"name\":\"demo.add\",\"args\":\"(2, 3)\",\"kwargs\":\"{}\",\"retries\":0,"
            + "\"queue\":\"celery\",\"exchange\":\"lovage.tasks\",\"routing_key\":\"celery\","
            + "\"result\":\"5\",\"runtime\":0.00042}";
    return json.getBytes(StandardCharsets.UTF_8);
  }

  /** Declares the stream and fills it over AMQP 0.9.1, confirmed in windows. */
  private static void publish(String uri, String stream, int events) {
    long started = System.nanoTime();
    try (Connection connection = factory(uri).newConnection("lovage-bench catch-up publish");
        Channel channel = connection.createChannel()) {
      channel.queueDeclare(stream, true, false, false, Map.of("x-queue-type", "stream"));
      channel.confirmSelect();
      AMQP.BasicProperties properties =
          new AMQP.BasicProperties.Builder()
              .contentType("application/json")
              .contentEncoding("utf-8")
              .deliveryMode(2)
              .headers(Map.of("hostname", "lovage@bench-worker-1"))
              .build();
      for (int message = 0; message * EVENTS_PER_MESSAGE < events; message++) {
        java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
        batch.write('[');
        int first = message * EVENTS_PER_MESSAGE;
        for (int i = first; i < Math.min(events, first + EVENTS_PER_MESSAGE); i++) {
          if (i > first) {
            batch.write(',');
          }
          batch.write(event(i));
        }
        batch.write(']');
        channel.basicPublish("", stream, properties, batch.toByteArray());
        if ((message + 1) % PUBLISH_WINDOW == 0) {
          channel.waitForConfirmsOrDie(60_000);
        }
      }
      channel.waitForConfirmsOrDie(60_000);
    } catch (Exception e) {
      throw new IllegalStateException("cannot fill stream " + stream + ": " + e, e);
    }
    System.out.printf(
        "  catch-up: %,d events published in %.1f s%n",
        events, (System.nanoTime() - started) / 1e9);
  }

  private static Rows.Measured read(
      BenchContext ctx, String stream, int events, boolean streamProtocol, boolean fold) {
    BrokerSettings settings =
        BrokerSettings.of(ctx.rabbitUri(), "lovage-bench catch-up")
            .withStreams(
                streamProtocol ? System.getenv("LOVAGE_STREAM_PORT") : "off",
                streamProtocol ? System.getenv("RABBITMQ_STREAM_ADDRESSES") : null);
    EventStreamResultStore store =
        new EventStreamResultStore(EventStreamResultStore.DEFAULT_MAX_TASKS);
    AtomicLong read = new AtomicLong();
    AtomicBoolean overStreamProtocol = new AtomicBoolean();
    CountDownLatch done = new CountDownLatch(1);
    try (RabbitBroker broker = RabbitBroker.connect(settings)) {
      long started = System.nanoTime();
      Subscription subscription =
          broker.consume(
              stream,
              ConsumeOptions.prefetch(1_000).withArgument("x-stream-offset", "first"),
              delivery -> {
                // What EventStreamResultStore does with each delivery of its catch-up.
                int carried;
                if (fold) {
                  JsonNode batch = Json.MAPPER.readTree(delivery.message().body());
                  batch.values().forEach(store::apply);
                  carried = batch.size();
                } else {
                  carried = EVENTS_PER_MESSAGE;
                }
                delivery.ack();
                if (read.get() == 0) {
                  overStreamProtocol.set(
                      delivery.getClass().getSimpleName().equals("StreamDelivery"));
                }
                if (read.addAndGet(carried) >= events) {
                  done.countDown();
                }
              });
      try {
        if (!done.await(READ_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
          throw new IllegalStateException(
              String.format(
                  "read %,d of %,d events within %d s",
                  read.get(), events, READ_TIMEOUT.toSeconds()));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } finally {
        subscription.close();
      }
      double seconds = (System.nanoTime() - started) / 1e9;
      if (overStreamProtocol.get() != streamProtocol) {
        throw new IllegalStateException(
            streamProtocol
                ? "the stream protocol was not used (is the rabbitmq_stream plugin enabled, port"
                    + " 5552 or LOVAGE_STREAM_PORT reachable?)"
                : "read over the stream protocol although it was off");
      }
      double rate = events / seconds;
      System.out.printf(
          "  catch-up over %s%s: %,d events in %.2f s, %,.0f events/s%n",
          streamProtocol ? "the stream protocol" : "AMQP 0.9.1",
          fold ? ", parsed into the index" : ", counted",
          events,
          seconds,
          rate);
      return new Rows.Measured(
          rate,
          String.format("%,d events in %.2f s", events, seconds),
          Map.of("events", events, "seconds", seconds, "streamProtocol", streamProtocol));
    }
  }

  private static void delete(String uri, String stream) {
    try (Connection connection = factory(uri).newConnection("lovage-bench catch-up cleanup");
        Channel channel = connection.createChannel()) {
      channel.queueDelete(stream);
    } catch (Exception e) {
      System.out.println("  could not delete stream " + stream + ": " + e);
    }
  }

  private static ConnectionFactory factory(String uri) {
    ConnectionFactory factory = new ConnectionFactory();
    try {
      factory.setUri(uri);
    } catch (Exception e) {
      throw new IllegalArgumentException("invalid RABBITMQ_URI: " + e, e);
    }
    return factory;
  }
}
