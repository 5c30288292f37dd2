package io.lovage.service;

import io.micronaut.context.ApplicationContext;
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

  public static void install(ApplicationContext context) {
    Signal.handle(
        new Signal("TERM"),
        signal -> {
          log.info("SIGTERM received, stopping");
          Signal.handle(new Signal("TERM"), again -> Runtime.getRuntime().halt(143));
          try {
            context.close();
          } finally {
            System.exit(0);
          }
        });
  }
}
