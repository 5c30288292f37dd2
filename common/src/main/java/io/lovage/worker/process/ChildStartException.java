package io.lovage.worker.process;

/** A child process did not start, or did not say ready in time. */
final class ChildStartException extends Exception {
  ChildStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
