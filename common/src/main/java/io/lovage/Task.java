package io.lovage;

/**
 * Named code that runs when a {@link io.lovage.protocol.TaskMessage} for its name is delivered.
 *
 * <p>What it returns becomes the task's result: anything Jackson can write as plain JSON (numbers,
 * strings, lists, maps, records). What it throws makes the task a FAILURE with the exception's type
 * and message.
 *
 * <pre>{@code
 * Task add = call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class);
 * }</pre>
 */
@FunctionalInterface
public interface Task {
  Object run(TaskCall call) throws Exception;
}
