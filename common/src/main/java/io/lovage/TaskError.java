package io.lovage;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * Why a task failed: the exception's type (simple class name, like Celery's {@code exc_type}),
 * where it comes from (package or Python module, Celery's {@code exc_module}), its message, and the
 * stack trace as text.
 */
public record TaskError(String type, String module, String message, String traceback) {
  /** Stack traces are cut to this many characters, to keep events and results small. */
  public static final int MAX_TRACEBACK = 8_000;

  public static TaskError of(Throwable error) {
    StringWriter trace = new StringWriter();
    error.printStackTrace(new PrintWriter(trace));
    String text = trace.toString();
    if (text.length() > MAX_TRACEBACK) {
      text = text.substring(0, MAX_TRACEBACK) + "\n\t... (cut)";
    }
    Class<?> type = error.getClass();
    return new TaskError(type.getSimpleName(), type.getPackageName(), error.getMessage(), text);
  }
}
