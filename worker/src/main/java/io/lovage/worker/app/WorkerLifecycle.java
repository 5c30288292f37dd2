package io.lovage.worker.app;

import io.lovage.worker.Worker;
import io.micronaut.context.event.ApplicationEventListener;
import io.micronaut.runtime.server.event.ServerStartupEvent;
import jakarta.inject.Singleton;

/**
 * Starts consuming once the HTTP server (health, metrics) is up. Stopping is the worker bean's
 * {@code close()}, which Micronaut calls on SIGTERM: stop consuming, let running tasks finish.
 */
@Singleton
final class WorkerLifecycle implements ApplicationEventListener<ServerStartupEvent> {
  private final Worker worker;

  WorkerLifecycle(Worker worker) {
    this.worker = worker;
  }

  @Override
  public void onApplicationEvent(ServerStartupEvent event) {
    worker.start();
  }
}
