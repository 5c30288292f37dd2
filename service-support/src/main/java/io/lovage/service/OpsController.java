package io.lovage.service;

import io.lovage.broker.Broker;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;

/**
 * {@code /health} (200 UP or 503 DOWN with the broker connection) and {@code /prometheus}, the same
 * in the producer and the worker.
 */
@Controller
final class OpsController {
  private final Broker broker;
  private final PrometheusMeterRegistry registry;

  OpsController(Broker broker, PrometheusMeterRegistry registry) {
    this.broker = broker;
    this.registry = registry;
  }

  @ApiDoc(
      summary = "Whether the service is up",
      description = "For probes and load balancers; answers without the API key.",
      responses = {
        @ApiResponse(
            status = 200,
            description =
                "UP: `{\"status\": \"UP\", \"components\": {\"rabbitmq\": {\"status\":"
                    + " \"UP\"}}}`"),
        @ApiResponse(
            status = 503,
            description = "DOWN, in the same shape: the broker connection is down",
            problem = false)
      })
  @WithoutApiKey
  @Get("/health")
  @Produces(MediaType.APPLICATION_JSON)
  HttpResponse<String> health() {
    boolean up = broker.isConnected();
    String status = up ? "UP" : "DOWN";
    return HttpResponse.<String>status(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
        .body(
            "{\"status\":\""
                + status
                + "\",\"components\":{\"rabbitmq\":{\"status\":\""
                + status
                + "\"}}}");
  }

  @ApiDoc(
      summary = "Metrics in Prometheus' text format",
      responses = @ApiResponse(status = 200, description = "the meters of this service"))
  @Get("/prometheus")
  @Produces("text/plain; version=0.0.4; charset=utf-8")
  String prometheus() {
    return registry.scrape();
  }
}
