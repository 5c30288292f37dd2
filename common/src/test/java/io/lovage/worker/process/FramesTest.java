package io.lovage.worker.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lovage.TaskError;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import io.lovage.worker.process.Frames.Failed;
import io.lovage.worker.process.Frames.Frame;
import io.lovage.worker.process.Frames.Progress;
import io.lovage.worker.process.Frames.Retry;
import io.lovage.worker.process.Frames.Run;
import io.lovage.worker.process.Frames.Succeeded;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FramesTest {

  @Test
  void framesRoundTripThroughAPipe() throws IOException {
    List<Frame> frames =
        List.of(
            new Frames.Ready(42, List.of("a", "b")),
            new Frames.Interrupt("t1"),
            new Progress("t1", 3, 10),
            new Succeeded("t1", Json.MAPPER.readTree("{\"x\": [1, 2.5, null, \"\u2713\"]}")),
            new Failed(
                "t1", new TaskError("Boom", "x.y", "it broke", "trace"), new Retry(1500L), false));
    ByteArrayOutputStream pipe = new ByteArrayOutputStream();
    for (Frame frame : frames) {
      Frames.write(pipe, Frames.encode(frame));
    }

    DataInputStream in = new DataInputStream(new ByteArrayInputStream(pipe.toByteArray()));
    for (Frame frame : frames) {
      assertEquals(frame, Frames.read(in));
    }
    assertNull(Frames.read(in), "the end of the stream between frames");
  }

  @Test
  void aReceivedTaskMessageReachesTheChildUnchanged() throws Exception {
    // The worker only has messages decoded from the broker; the frame carries their encoding.
    TaskMessage sent =
        TaskMessage.builder("billing.invoice")
            .args("o-7", 3)
            .kwargs(Map.of("vat", 0.2))
            .eta(Instant.parse("2030-01-02T03:04:05Z"))
            .timeLimit(new TaskMessage.TimeLimit(1.5, 3.0))
            .header("x-custom", List.of(1, "two"))
            .build();
    TaskMessage message = TaskMessageCodec.decode(TaskMessageCodec.encode(sent));
    ByteArrayOutputStream pipe = new ByteArrayOutputStream();
    Frames.write(pipe, Frames.encode(Run.of(message)));

    Run run = (Run) Frames.read(new DataInputStream(new ByteArrayInputStream(pipe.toByteArray())));

    assertEquals(message, run.message());
  }

  @Test
  void bytesThatAreNotAFrameAreRefused() {
    byte[] garbage = "hello, world".getBytes(StandardCharsets.UTF_8);
    assertThrows(
        IOException.class,
        () -> Frames.read(new DataInputStream(new ByteArrayInputStream(garbage))));
  }
}
