package io.lovage;

/** A task was called with a missing argument or one of the wrong type (Python's TypeError). */
public final class TaskArgumentException extends IllegalArgumentException {
  public TaskArgumentException(String message) {
    super(message);
  }

  public TaskArgumentException(String message, Throwable cause) {
    super(message, cause);
  }
}
