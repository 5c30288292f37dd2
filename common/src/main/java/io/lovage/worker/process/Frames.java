package io.lovage.worker.process;

import io.lovage.TaskError;
import io.lovage.broker.Message;
import io.lovage.protocol.Json;
import io.lovage.protocol.MalformedMessageException;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a worker and its child processes say to each other, over the child's stdin and stdout: one
 * JSON object per frame, after its length as a 4-byte big-endian integer. The {@code type} field
 * names the frame; no class names travel, and nothing but these frames is written to the pipes.
 */
final class Frames {
  /** A larger frame is a broken child: results are limited far below it by the worker. */
  static final int MAX_FRAME_BYTES = 64 << 20;

  private Frames() {}

  sealed interface Frame permits Ready, Run, Interrupt, Progress, Succeeded, Failed {}

  /** Child to worker, once: it knows these tasks and waits for work. */
  record Ready(long pid, List<String> tasks) implements Frame {}

  /**
   * Worker to child: run this task, sent as its Celery protocol v2 headers and body (the one
   * encoding of a task message there is).
   */
  record Run(Map<String, Object> headers, JsonNode body, String replyTo, Integer priority)
      implements Frame {
    static Run of(TaskMessage message) {
      Message encoded = TaskMessageCodec.encode(message);
      return new Run(
          encoded.headers(),
          Json.MAPPER.readTree(encoded.body()),
          encoded.replyTo(),
          encoded.priority());
    }

    TaskMessage message() throws MalformedMessageException {
      return TaskMessageCodec.decode(
          new Message(
              Json.MAPPER.writeValueAsBytes(body),
              headers,
              TaskMessageCodec.CONTENT_TYPE,
              TaskMessageCodec.CONTENT_ENCODING,
              null,
              replyTo,
              priority,
              true));
    }
  }

  /** Worker to child: interrupt the task's thread (soft time limit, revocation). */
  record Interrupt(String taskId) implements Frame {}

  /** Child to worker: the running task reported how far it is. */
  record Progress(String taskId, long done, long total) implements Frame {}

  /** Child to worker: the task returned this result. */
  record Succeeded(String taskId, JsonNode result) implements Frame {}

  /**
   * Child to worker: the task threw. {@code retry} is null unless the task asked to be retried
   * ({@code call.retry(...)}) or its retry policy retries on the exception: only the child has the
   * exception itself; the worker still applies max retries and backoff. {@code exiting}: the child
   * exits after this answer (an error such as OutOfMemoryError leaves its JVM untrusted), so it
   * gets no other task.
   */
  record Failed(String taskId, TaskError error, Retry retry, boolean exiting) implements Frame {}

  /** A retry asked for, after {@code countdownMillis}, or null for the task's backoff. */
  record Retry(Long countdownMillis) {}

  private static final Map<String, Class<? extends Frame>> TYPES =
      Map.of(
          "ready", Ready.class,
          "run", Run.class,
          "interrupt", Interrupt.class,
          "progress", Progress.class,
          "succeeded", Succeeded.class,
          "failed", Failed.class);

  private static String typeOf(Frame frame) {
    return switch (frame) {
      case Ready r -> "ready";
      case Run r -> "run";
      case Interrupt i -> "interrupt";
      case Progress p -> "progress";
      case Succeeded s -> "succeeded";
      case Failed f -> "failed";
    };
  }

  /**
   * A frame's bytes, length first.
   *
   * @throws IllegalArgumentException when it is above {@link #MAX_FRAME_BYTES}
   */
  static byte[] encode(Frame frame) {
    ObjectNode node = Json.MAPPER.valueToTree(frame);
    node.put("type", typeOf(frame));
    byte[] json = Json.MAPPER.writeValueAsBytes(node);
    if (json.length > MAX_FRAME_BYTES) {
      throw new IllegalArgumentException(
          "frame of " + json.length + " bytes is above the limit of " + MAX_FRAME_BYTES);
    }
    return ByteBuffer.allocate(4 + json.length).putInt(json.length).put(json).array();
  }

  /** Writes one encoded frame and flushes it; callers write from one thread at a time. */
  static void write(OutputStream out, byte[] encoded) throws IOException {
    out.write(encoded);
    out.flush();
  }

  /** Reads the next frame, or returns null when the stream ended between frames. */
  static Frame read(DataInputStream in) throws IOException {
    int length;
    try {
      length = in.readInt();
    } catch (EOFException end) {
      return null;
    }
    if (length < 2 || length > MAX_FRAME_BYTES) {
      throw new IOException("not a frame: length " + length);
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    try {
      ObjectNode node = (ObjectNode) Json.MAPPER.readTree(bytes);
      JsonNode type = node.remove("type");
      Class<? extends Frame> frameClass = type == null ? null : TYPES.get(type.asString());
      if (frameClass == null) {
        throw new IOException("unknown frame type " + type);
      }
      return Json.MAPPER.treeToValue(node, frameClass);
    } catch (JacksonException | ClassCastException e) {
      throw new IOException("not a frame: " + e.getMessage(), e);
    }
  }
}
