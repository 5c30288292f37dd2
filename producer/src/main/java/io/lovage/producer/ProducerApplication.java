package io.lovage.producer;

import io.lovage.service.GracefulExit;
import io.micronaut.runtime.Micronaut;

/** The REST service: {@code POST /tasks}, {@code GET /tasks/{id}}, health and metrics. */
public final class ProducerApplication {
  private ProducerApplication() {}

  public static void main(String[] args) {
    GracefulExit.start(
        () -> Micronaut.build(args).mainClass(ProducerApplication.class).banner(false).start());
  }
}
