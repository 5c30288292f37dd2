package io.lovage.worker;

import io.lovage.TaskError;
import java.time.Duration;
import tools.jackson.databind.JsonNode;

/**
 * What running a task came to: a result, a retry after a wait, a failure for good, or nothing
 * because the worker stopped waiting for it (shutdown past its grace).
 */
sealed interface Outcome {
  double runtime();

  record Success(JsonNode result, double runtime) implements Outcome {}

  record Retry(Duration delay, TaskError error, double runtime) implements Outcome {}

  record Failure(TaskError error, double runtime) implements Outcome {}

  record Abandoned(double runtime) implements Outcome {}
}
