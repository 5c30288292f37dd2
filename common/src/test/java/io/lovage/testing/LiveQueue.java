package io.lovage.testing;

import io.lovage.TaskClient;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.RabbitBroker;
import io.lovage.protocol.TaskMessage;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One fresh task queue on the real broker, with what a test of it needs: a broker connection, a
 * client that sends to the queue, the index of task states, and the workers the test starts.
 * Closing it stops them and deletes the queue.
 */
public final class LiveQueue implements AutoCloseable {
  public static final Duration WAIT = Duration.ofSeconds(20);

  /** How far back the test's index of task states reads the event stream. */
  private static final Duration EVENTS_LOOKBACK = Duration.ofMinutes(5);

  public final String name;
  public final RabbitBroker broker;
  public final TaskClient client;
  public final EventStreamResultStore results;
  private final List<Worker> workers = new ArrayList<>();

  public LiveQueue(String prefix) {
    name = RabbitFixture.uniqueQueue(prefix);
    broker = RabbitFixture.connect(prefix);
    client = new TaskClient(broker, prefix);
    // A test reads only its own tasks' events: replaying a day of a shared broker's event stream
    // (hundreds of thousands of events after benchmarks) would take longer than the test waits.
    results =
        new EventStreamResultStore(100_000, EVENTS_LOOKBACK, java.time.Clock.systemUTC())
            .follow(broker);
  }

  /** Starts a worker on this queue, with {@code concurrency} IO tasks. */
  public Worker startWorker(TaskRegistry tasks, int concurrency) {
    return startWorker(tasks, WorkerSettings.of(List.of(name), concurrency));
  }

  public Worker startWorker(TaskRegistry tasks, WorkerSettings settings) {
    Worker worker = new Worker(broker, tasks, settings);
    worker.start();
    workers.add(worker);
    return worker;
  }

  /** Sends a task to this queue; returns it once the broker confirmed it. */
  public TaskMessage send(TaskMessage message) {
    return client.send(message, name).join();
  }

  public TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in state " + state,
        () -> results.find(id).filter(r -> r.state() == state));
  }

  @Override
  public void close() {
    workers.forEach(Worker::close);
    client.close();
    results.close();
    broker.close();
    RabbitFixture.deleteTaskQueue(name);
  }
}
