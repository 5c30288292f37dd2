package io.lovage.deadletter;

import tools.jackson.databind.JsonNode;

/**
 * A message in a task queue's dead-letter queue, and why it is there.
 *
 * @param id {@code <queue>:<offset>}, stable for as long as the dead letter is kept
 * @param reason why it did not run or failed for good
 * @param attempts how often it was tried (or delivered)
 * @param body the message body as JSON when it is JSON (Celery's {@code [args, kwargs, embed]}),
 *     else the text
 */
public record DeadLetter(
    String id,
    String queue,
    long offset,
    String taskId,
    String task,
    String reason,
    String exceptionType,
    String exceptionMessage,
    String traceback,
    long attempts,
    String failedAt,
    JsonNode body) {}
