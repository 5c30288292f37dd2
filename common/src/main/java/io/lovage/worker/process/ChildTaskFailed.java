package io.lovage.worker.process;

import io.lovage.TaskError;

/**
 * A task threw in a child process: the exception stayed there, its type, message and stack trace
 * came back as a {@link TaskError}, which the worker records as it is.
 */
public final class ChildTaskFailed extends RuntimeException {
  private final transient TaskError error;

  ChildTaskFailed(TaskError error) {
    super(error.type() + ": " + error.message(), null, false, false);
    this.error = error;
  }

  /** The error as the child saw it. */
  public TaskError error() {
    return error;
  }
}
