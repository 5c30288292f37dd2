package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GatheringSocketsTest {
  /** A socket's stream that records each write it is given. */
  private static final class Writes extends OutputStream {
    final List<String> writes = new ArrayList<>();
    final ByteArrayOutputStream all = new ByteArrayOutputStream();

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      writes.add(new String(b, off, len, StandardCharsets.UTF_8));
      all.write(b, off, len);
    }
  }

  private final Writes socket = new Writes();
  private final GatheringSockets.Gathering stream = new GatheringSockets.Gathering(socket);

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private void gather() {
    stream.gather();
  }

  @Test
  void withNobodyGatheringEachWriteGoesToTheSocketAtOnce() throws IOException {
    stream.write(bytes("one"));
    stream.flush();
    stream.write(bytes("two"));

    assertEquals(List.of("one", "two"), socket.writes);
  }

  @Test
  void theGatheringThreadsWritesAndFlushesReachTheSocketAsOneWriteWhenSent() throws Exception {
    gather();
    stream.write(bytes("publish 1;"));
    stream.flush();
    stream.write(bytes("publish 2;"));
    stream.flush();
    assertEquals(List.of(), socket.writes);

    stream.send();

    assertEquals(List.of("publish 1;publish 2;"), socket.writes);
    stream.write(bytes("after"));
    assertEquals(List.of("publish 1;publish 2;", "after"), socket.writes);
  }

  @Test
  void afterAPauseTheGatheringThreadsOwnFlushSendsWhatWasGathered() throws IOException {
    gather();
    stream.write(bytes("publish;"));
    stream.flush();
    stream.pause();
    assertEquals(List.of(), socket.writes);

    // Opening a channel waits for RabbitMQ's answer: its frames must go out at once.
    stream.write(bytes("channel.open;"));
    stream.flush();

    assertEquals("publish;channel.open;", socket.all.toString(StandardCharsets.UTF_8));
  }

  @Test
  void anotherThreadsFlushSendsWhatIsGatheredFirstAndInOrder() throws Exception {
    gather();
    stream.write(bytes("gathered;"));

    Thread heartbeat =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    stream.write(bytes("heartbeat;"));
                    stream.flush();
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                });
    heartbeat.join();

    assertEquals("gathered;heartbeat;", socket.all.toString(StandardCharsets.UTF_8));
    stream.send();
    assertEquals("gathered;heartbeat;", socket.all.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aGatheringLongerThanItsBufferIsSentInPiecesWithNothingLostOrReordered() throws Exception {
    gather();
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    for (int i = 0; i < 10_000; i++) {
      byte[] publish = bytes("publish " + i + ";");
      stream.write(publish);
      stream.flush();
      expected.write(publish);
    }
    byte[] large = new byte[GatheringSockets.Gathering.MAX_GATHERED + 1];
    stream.write(large);
    expected.write(large);
    stream.send();

    assertArrayEquals(expected.toByteArray(), socket.all.toByteArray());
    assertTrue(socket.writes.size() > 1, "sent in more than one write");
  }
}
