package io.lovage.protocol;

/**
 * A message that is not a Celery protocol v2 task message Lovage can run. Such a message is never
 * executed: the worker moves it to the dead-letter queue with {@link #getMessage()} as the reason.
 */
public final class MalformedMessageException extends Exception {
  public MalformedMessageException(String reason) {
    super(reason);
  }

  public MalformedMessageException(String reason, Throwable cause) {
    super(reason, cause);
  }
}
