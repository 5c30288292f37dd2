package io.lovage.worker.process;

import io.lovage.RetryRequest;
import io.lovage.TaskCall;
import io.lovage.TaskError;
import io.lovage.TaskModule;
import io.lovage.TaskRegistry;
import io.lovage.TaskRegistry.TaskDefinition;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.worker.process.Frames.Failed;
import io.lovage.worker.process.Frames.Frame;
import io.lovage.worker.process.Frames.Interrupt;
import io.lovage.worker.process.Frames.Progress;
import io.lovage.worker.process.Frames.Ready;
import io.lovage.worker.process.Frames.Retry;
import io.lovage.worker.process.Frames.Run;
import io.lovage.worker.process.Frames.Succeeded;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A child process of the process pool, started by {@link ProcessPool}; not for starting by hand.
 *
 * <p>It builds its task registry from the {@link TaskModule} classes named on its command line and
 * those in {@code META-INF/services/io.lovage.TaskModule}, says {@code ready}, then runs one task
 * at a time as the worker sends them on stdin, answering on stdout. It never touches the broker.
 * When its stdin ends (the worker stopped it, or died) it halts at once, also in the middle of a
 * task: a child never outlives its worker.
 */
public final class ChildMain {
  /** Created on first use, after stdout was redirected: some logging backends keep the stream. */
  private static final class Log {
    static final Logger log = LoggerFactory.getLogger(ChildMain.class);
  }

  /**
   * The first argument of a child's command line, before its long classpath: {@code ps} and {@link
   * ProcessHandle.Info#commandLine()} (which keeps only its first 4 KiB) show what the process is.
   */
  public static final String MARKER = "-Dlovage.child=true";

  /** Exit codes, seen by the worker in its logs. */
  static final int EXIT_STDIN_CLOSED = 0;

  static final int EXIT_BROKEN_PIPE = 2;
  static final int EXIT_AFTER_VM_ERROR = 3;

  private final TaskRegistry tasks;
  private final OutputStream frames;
  private volatile Running current;

  private record Running(String taskId, Thread thread) {}

  private ChildMain(TaskRegistry tasks, OutputStream frames) {
    this.tasks = tasks;
    this.frames = frames;
  }

  public static void main(String[] args) {
    // Before anything can print: stdout carries frames only, a stray print goes to stderr.
    OutputStream frames = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
    System.setOut(System.err);
    // stdin carries frames too: a task that reads System.in finds it empty.
    System.setIn(InputStream.nullInputStream());
    try {
      ignoreTerminalInterrupt();
      TaskRegistry tasks = registry(List.of(args));
      new ChildMain(tasks, frames)
          .serve(
              new DataInputStream(new BufferedInputStream(new FileInputStream(FileDescriptor.in))));
    } catch (Throwable e) {
      // Without its reader the child would sit deaf, still running a task: it ends instead.
      Log.log.error("child process failed, exiting", e);
      Runtime.getRuntime().halt(EXIT_BROKEN_PIPE);
    }
  }

  /**
   * Ctrl-C in a terminal signals the whole process group, children included; their worker decides
   * when they stop (after its shutdown grace), as Celery's pool processes ignore SIGINT too.
   */
  @SuppressWarnings("sunapi")
  private static void ignoreTerminalInterrupt() {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("INT"), sun.misc.SignalHandler.SIG_IGN);
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      Log.log.debug("SIGINT not ignored: {}", e.toString());
    }
  }

  /** The named modules first, then those of {@code META-INF/services} not named. */
  static TaskRegistry registry(List<String> moduleNames) {
    TaskRegistry.Builder builder = TaskRegistry.builder();
    Set<String> loaded = new LinkedHashSet<>();
    for (String name : moduleNames) {
      try {
        TaskModule module =
            Class.forName(name).asSubclass(TaskModule.class).getDeclaredConstructor().newInstance();
        module.register(builder);
        loaded.add(name);
      } catch (ReflectiveOperationException | ClassCastException e) {
        // Its tasks are missing here; the worker names them when this child says ready.
        Log.log.warn(
            "task module not loaded in child process module={} error={}", name, e.toString());
      }
    }
    try {
      for (TaskModule module : ServiceLoader.load(TaskModule.class)) {
        if (loaded.add(module.getClass().getName())) {
          module.register(builder);
        }
      }
    } catch (ServiceConfigurationError e) {
      Log.log.warn("task modules of META-INF/services not loaded error={}", e.toString());
    }
    return builder.build();
  }

  private void serve(DataInputStream in) {
    send(new Ready(ProcessHandle.current().pid(), List.copyOf(tasks.names())));
    while (true) {
      Frame frame;
      try {
        frame = Frames.read(in);
      } catch (IOException e) {
        Log.log.error("broken frame from the worker, exiting error={}", e.toString());
        Runtime.getRuntime().halt(EXIT_BROKEN_PIPE);
        return;
      }
      switch (frame) {
        case null -> Runtime.getRuntime().halt(EXIT_STDIN_CLOSED);
        case Run run -> start(run);
        case Interrupt interrupt -> interrupt(interrupt.taskId());
        default -> {
          Log.log.error("unexpected frame from the worker, exiting frame={}", frame);
          Runtime.getRuntime().halt(EXIT_BROKEN_PIPE);
        }
      }
    }
  }

  private void start(Run run) {
    String taskId = String.valueOf(run.headers().get("id"));
    Thread thread =
        Thread.ofPlatform()
            .name("lovage-child-task")
            // A task that ends without an answer (an error while answering, such as another
            // OutOfMemoryError) must not leave the worker waiting: the child exits, the task is
            // lost.
            .uncaughtExceptionHandler((t, e) -> Runtime.getRuntime().halt(EXIT_AFTER_VM_ERROR))
            .unstarted(() -> execute(run));
    current = new Running(taskId, thread);
    thread.start();
  }

  private void interrupt(String taskId) {
    Running running = current;
    if (running != null && running.taskId().equals(taskId)) {
      running.thread().interrupt();
    }
  }

  /** On the task's own thread: runs it and answers with its result or error. */
  private void execute(Run run) {
    String taskId = String.valueOf(run.headers().get("id"));
    TaskDefinition definition = null;
    Failed failure = null;
    Frame answer;
    try {
      TaskMessage message = run.message();
      definition = tasks.find(message.task()).orElse(null);
      if (definition == null) {
        answer = notRegistered(message);
      } else {
        Object value =
            definition
                .task()
                .run(
                    new TaskCall(
                        message, (done, total) -> send(new Progress(taskId, done, total))));
        answer = new Succeeded(taskId, Json.MAPPER.valueToTree(value));
      }
    } catch (Throwable e) {
      failure = failed(taskId, definition, e);
      answer = failure;
    }
    current = null;
    byte[] encoded;
    try {
      encoded = Frames.encode(answer);
    } catch (IllegalArgumentException tooLarge) {
      encoded =
          Frames.encode(
              new Failed(
                  taskId,
                  new TaskError("ResultTooLarge", null, tooLarge.getMessage(), null),
                  null,
                  false));
    }
    send(encoded);
    if (failure != null && failure.exiting()) {
      Log.log.error(
          "child process exiting after {} task_id={}", failure.error().type(), failure.taskId());
      Runtime.getRuntime().halt(EXIT_AFTER_VM_ERROR);
    }
  }

  /**
   * The error as the worker records it, and whether to retry: as a thread pool decides (see
   * TaskRunner), since only here is the exception itself to match against the retry policy.
   */
  static Failed failed(String taskId, TaskDefinition definition, Throwable e) {
    if (e instanceof RetryRequest request) {
      Throwable cause = request.getCause() != null ? request.getCause() : request;
      Long countdown = request.countdown() == null ? null : request.countdown().toMillis();
      return new Failed(taskId, TaskError.of(cause), new Retry(countdown), false);
    }
    boolean retries = definition != null && definition.options().retry().retriesOn(e);
    // After an OutOfMemoryError or the like this JVM is not trusted with another task.
    boolean exiting = e instanceof VirtualMachineError && !(e instanceof StackOverflowError);
    return new Failed(taskId, TaskError.of(e), retries ? new Retry(null) : null, exiting);
  }

  private Failed notRegistered(TaskMessage message) {
    return new Failed(
        message.id(),
        new TaskError(
            "NotRegistered",
            null,
            "task '"
                + message.task()
                + "' is not known to the child process: tasks of the process pool come from a"
                + " TaskModule with a public no-argument constructor, listed in"
                + " META-INF/services/io.lovage.TaskModule or in the pool's taskModules",
            null),
        null,
        false);
  }

  private void send(Frame frame) {
    send(Frames.encode(frame));
  }

  private void send(byte[] encoded) {
    synchronized (frames) {
      try {
        Frames.write(frames, encoded);
      } catch (IOException e) {
        // The worker is gone: nobody is left to take the answer.
        Runtime.getRuntime().halt(EXIT_BROKEN_PIPE);
      }
    }
  }
}
