package io.lovage.broker;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Reads a stretch of a stream from an offset: what a browser of dead letters needs. Reading stops
 * at {@code max} messages, or when nothing more arrived for {@code idle} (the end of the stream).
 */
public final class StreamReader {
  /** One message of a stream and its offset. */
  public record Entry(long offset, Message message) {}

  private StreamReader() {}

  public static List<Entry> read(Broker broker, String stream, long from, int max, Duration idle) {
    LinkedBlockingQueue<Entry> arrived = new LinkedBlockingQueue<>();
    List<Entry> entries = new ArrayList<>();
    Subscription subscription =
        broker.consume(
            stream,
            ConsumeOptions.prefetch(Math.min(max, 1_000)).withArgument("x-stream-offset", from),
            delivery -> {
              Object offset = delivery.message().headers().get("x-stream-offset");
              arrived.add(
                  new Entry(offset instanceof Number n ? n.longValue() : -1, delivery.message()));
              delivery.ack();
            });
    try {
      while (entries.size() < max) {
        Entry next = arrived.poll(idle.toMillis(), TimeUnit.MILLISECONDS);
        if (next == null) {
          break;
        }
        // A stream delivers from the start of the chunk that holds the offset: skip what is before.
        if (next.offset() >= from) {
          entries.add(next);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      subscription.close();
    }
    return entries;
  }
}
