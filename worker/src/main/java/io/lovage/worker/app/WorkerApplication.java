package io.lovage.worker.app;

import io.lovage.service.GracefulExit;
import io.micronaut.runtime.Micronaut;

/** The worker JVM: consumes task queues, runs tasks, serves health and metrics on port 8081. */
public final class WorkerApplication {
  private WorkerApplication() {}

  public static void main(String[] args) {
    GracefulExit.start(
        () -> Micronaut.build(args).mainClass(WorkerApplication.class).banner(false).start());
  }
}
