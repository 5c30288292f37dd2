package io.lovage.result;

import java.util.Optional;

/**
 * Where an {@link EventStreamResultStore} keeps the tasks its memory no longer holds, so that
 * {@code LOVAGE_RESULTS_MAX_TASKS} bounds memory and not what can be looked up. The store puts a
 * task here when it evicts it, and looks here when a task is not in memory.
 *
 * <p>An archive needs to answer only for tasks younger than the store's expiry; it may forget older
 * ones. It is filled from the event stream like the memory, so it holds nothing the stream does
 * not: one that starts empty is filled again by reading the stream.
 */
public interface TaskArchive extends AutoCloseable {

  /** No archive: a task evicted from memory is not found again. */
  TaskArchive NONE =
      new TaskArchive() {
        @Override
        public void put(TaskRecord record) {}

        @Override
        public Optional<TaskRecord> find(String id) {
          return Optional.empty();
        }

        @Override
        public void close() {}
      };

  /** Keeps a task's latest record, replacing what was kept for its id. */
  void put(TaskRecord record);

  /** The latest record kept for a task, if any. */
  Optional<TaskRecord> find(String id);

  @Override
  void close();
}
