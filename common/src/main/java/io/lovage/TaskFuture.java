package io.lovage;

import io.lovage.protocol.Json;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import tools.jackson.databind.JsonNode;

/**
 * The result of a submitted task, like {@code concurrent.futures.Future} or Celery's {@code
 * AsyncResult}: it completes with the task's JSON result, or exceptionally with a {@link
 * TaskFailedException}. All of {@link CompletableFuture} works: {@code thenAccept}, {@code
 * whenComplete}, {@code get(timeout)}, {@code allOf}.
 *
 * <pre>{@code
 * TaskFuture future = client.submit(TaskMessage.builder("demo.add").args(2, 3).build());
 * future.addDoneCallback(f -> log.info("done: {}", f.getNow(null)));
 * long sum = future.get(Duration.ofSeconds(10), long.class);
 * }</pre>
 */
public final class TaskFuture extends CompletableFuture<JsonNode> {
  private final String id;

  public TaskFuture(String id) {
    this.id = id;
  }

  /** The task's id. */
  public String id() {
    return id;
  }

  /** Waits for the result and converts it, e.g. {@code get(Duration.ofSeconds(5), long.class)}. */
  public <T> T get(Duration timeout, Class<T> type)
      throws InterruptedException, ExecutionException, TimeoutException {
    return Json.MAPPER.treeToValue(get(timeout.toMillis(), TimeUnit.MILLISECONDS), type);
  }

  /** Python's {@code add_done_callback}: runs once, when the task has finished either way. */
  public TaskFuture addDoneCallback(Consumer<TaskFuture> callback) {
    whenComplete((result, error) -> callback.accept(this));
    return this;
  }

  /**
   * Completes when all of them have, with their results in order, or exceptionally with the first
   * failure; like {@code concurrent.futures.wait} or Celery's group result.
   */
  public static CompletableFuture<java.util.List<JsonNode>> allOf(
      java.util.List<TaskFuture> futures) {
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .thenApply(done -> futures.stream().map(CompletableFuture::join).toList());
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new CompletableFuture<>();
  }
}
