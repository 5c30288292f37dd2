package io.lovage;

/**
 * A task ended in FAILURE (or was revoked) on a worker, Java or Python: the remote error's type,
 * message and traceback. Celery sends these as {@code exc_type}, {@code exc_message}.
 */
public final class TaskFailedException extends RuntimeException {
  private final String taskId;
  private final String type;
  private final String remoteTraceback;

  public TaskFailedException(String taskId, String type, String message, String remoteTraceback) {
    super(type + ": " + message);
    this.taskId = taskId;
    this.type = type;
    this.remoteTraceback = remoteTraceback;
  }

  public String taskId() {
    return taskId;
  }

  /** The remote exception's type, e.g. {@code ValueError} or {@code DemoFailure}. */
  public String type() {
    return type;
  }

  /** The remote exception's message, without the type. */
  public String remoteMessage() {
    return getMessage().substring(type.length() + 2);
  }

  public String remoteTraceback() {
    return remoteTraceback;
  }
}
