package io.lovage.result;

import java.util.Optional;

/** Where the states and results of tasks are looked up by id. */
public interface ResultStore {
  /** What is known of a task, or empty when its id was never seen (or is past retention). */
  Optional<TaskRecord> find(String id);
}
