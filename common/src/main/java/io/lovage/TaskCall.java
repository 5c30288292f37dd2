package io.lovage;

import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * One invocation of a {@link Task}: its arguments and what the message said about it.
 *
 * <p>Arguments are read the way Python binds them: by position from {@code args}, or by name from
 * {@code kwargs}, so {@code demo.add(2, 3)} and {@code demo.add(x=2, y=3)} both work with {@code
 * call.arg(0, "x", long.class)}.
 */
public final class TaskCall {
  private final TaskMessage message;
  private final Progress progress;

  /** Where a running task's progress reports go (the worker publishes them as events). */
  @FunctionalInterface
  public interface Progress {
    void report(long done, long total);
  }

  public TaskCall(TaskMessage message) {
    this(message, (done, total) -> {});
  }

  public TaskCall(TaskMessage message, Progress progress) {
    this.message = message;
    this.progress = progress;
  }

  /**
   * Reports how far the task is, e.g. {@code call.progress(30, 100)}; shown as {@code progress} in
   * {@code GET /tasks/{id}}.
   */
  public void progress(long done, long total) {
    progress.report(done, total);
  }

  /** The message's headers that Lovage does not model itself, e.g. custom ones. */
  public java.util.Map<String, Object> headers() {
    return message.extraHeaders();
  }

  public TaskMessage message() {
    return message;
  }

  public String id() {
    return message.id();
  }

  public String name() {
    return message.task();
  }

  public int retries() {
    return message.retries();
  }

  /**
   * Asks to run this task again after the task's backoff: {@code throw call.retry(e);}. Past its
   * max retries the task fails with {@code cause}.
   */
  public RetryRequest retry(Throwable cause) {
    return new RetryRequest(null, cause);
  }

  /** Asks to run this task again after {@code countdown}: {@code throw call.retry(e, d);}. */
  public RetryRequest retry(Throwable cause, java.time.Duration countdown) {
    return new RetryRequest(countdown, cause);
  }

  /** The argument at {@code position} in args, or named {@code name} in kwargs; required. */
  public <T> T arg(int position, String name, Class<T> type) {
    JsonNode node = argNode(position, name);
    if (node == null) {
      throw new TaskArgumentException(
          message.task() + "() missing required argument: '" + name + "'");
    }
    return convert(node, name, type);
  }

  /** Like {@link #arg(int, String, Class)}, with a default for a missing argument. */
  public <T> T arg(int position, String name, Class<T> type, T defaultValue) {
    JsonNode node = argNode(position, name);
    return node == null ? defaultValue : convert(node, name, type);
  }

  /** The raw JSON of an argument, or null when it was not given. */
  public JsonNode argNode(int position, String name) {
    if (position >= 0 && position < message.args().size()) {
      return message.args().get(position);
    }
    return name == null ? null : message.kwargs().get(name);
  }

  private <T> T convert(JsonNode node, String name, Class<T> type) {
    try {
      return Json.MAPPER.treeToValue(node, type);
    } catch (JacksonException e) {
      throw new TaskArgumentException(
          message.task()
              + "() argument '"
              + name
              + "' must be "
              + type.getSimpleName()
              + ", got "
              + node.getNodeType().name().toLowerCase(java.util.Locale.ROOT),
          e);
    }
  }
}
