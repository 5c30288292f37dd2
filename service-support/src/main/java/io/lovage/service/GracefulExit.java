package io.lovage.service;

import io.micronaut.context.ApplicationContext;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGTERM (what {@code docker compose stop} and Kubernetes send) closes the application context,
 * which lets a worker finish its running tasks within its grace period, and then exits with 0: a
 * clean stop is not a crash. A second SIGTERM, or SIGKILL, still ends it at once.
 */
public final class GracefulExit {
  private static final Logger log = LoggerFactory.getLogger(GracefulExit.class);

  private GracefulExit() {}

  /**
   * Starts the application with SIGTERM handled from the first moment: one that arrives while it is
   * still starting (a worker starting its child processes) stops it as soon as it has started, as
   * cleanly as later.
   */
  public static ApplicationContext start(Supplier<ApplicationContext> start) {
    CompletableFuture<ApplicationContext> context = new CompletableFuture<>();
    Signal.handle(
        new Signal("TERM"),
        signal -> {
          log.info("SIGTERM received, stopping");
          Signal.handle(new Signal("TERM"), again -> Runtime.getRuntime().halt(143));
          try {
            context.join().close();
          } finally {
            System.exit(0);
          }
        });
    try {
      ApplicationContext started = start.get();
      context.complete(started);
      return started;
    } catch (RuntimeException | Error e) {
      context.completeExceptionally(e);
      throw e;
    }
  }
}
