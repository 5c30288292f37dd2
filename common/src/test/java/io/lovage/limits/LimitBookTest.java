package io.lovage.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.RateLimit;
import io.lovage.broker.InMemoryBroker;
import io.lovage.testing.Await;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LimitBookTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Instant NOW = Instant.parse("2026-12-01T10:00:00Z");
  private final InMemoryBroker broker = new InMemoryBroker();
  private final List<LimitBook> books = new ArrayList<>();

  @AfterEach
  void stop() {
    books.forEach(LimitBook::close);
    broker.close();
  }

  @Test
  void aPutLimitIsInTheBookOnceThePutCompletesWithItsTimeAndInEveryOtherReplicaSoon() {
    LimitBook first = book();
    LimitBook second = book();

    TaskLimits put = first.put(TaskLimits.of("sms").withRate(RateLimit.parse("5/m"))).join();

    assertEquals(new TaskLimits("sms", RateLimit.parse("5/m"), null, NOW), put);
    assertEquals(Optional.of(put), first.find("sms"));
    Await.until(WAIT, "the limit in the other replica", () -> second.find("sms").isPresent());
    assertEquals(List.of(put), second.all());
  }

  @Test
  void aBookStartedLaterReadsTheLastRecordOfEachTaskAndNotTheDeletedOnes() throws Exception {
    LimitBook writer = book();
    writer.put(TaskLimits.of("a").withRate(RateLimit.parse("1/s"))).join();
    writer.put(TaskLimits.of("a").withRate(RateLimit.parse("2/s"))).join();
    writer.put(TaskLimits.of("b").withRate(RateLimit.parse("3/s"))).join();
    writer.delete("b").join();

    LimitBook later = book();

    assertTrue(later.awaitCaughtUp(WAIT), "caught up");
    assertEquals(List.of("a"), later.all().stream().map(TaskLimits::task).toList());
    assertEquals(RateLimit.parse("2/s"), later.find("a").orElseThrow().rate());
  }

  @Test
  void listenersHearEachChangeOnceAndADeletionAsEmpty() {
    LimitBook writer = book();
    List<String> heard = new CopyOnWriteArrayList<>();
    LimitBook reader =
        new LimitBook(broker, Clock.fixed(NOW, ZoneOffset.UTC))
            .onChange(
                (task, limits) ->
                    heard.add(
                        task + "=" + limits.map(l -> String.valueOf(l.rate())).orElse("deleted")));
    books.add(reader.follow());
    // The writer hears its own changes once each, as it reads them back from the stream.
    List<String> writerHeard = new CopyOnWriteArrayList<>();
    writer.onChange((task, limits) -> writerHeard.add(task));

    writer.put(TaskLimits.of("a").withRate(RateLimit.parse("1/m"))).join();
    writer.delete("a").join();

    Await.until(WAIT, "two changes", () -> heard.size() == 2);
    assertEquals(List.of("a=1/m", "a=deleted"), heard);
    Await.until(WAIT, "the writer to read its records back", () -> writer.caughtUp());
    assertEquals(List.of("a", "a"), writerHeard);
  }

  private LimitBook book() {
    LimitBook book = new LimitBook(broker, Clock.fixed(NOW, ZoneOffset.UTC)).follow();
    books.add(book);
    return book;
  }
}
