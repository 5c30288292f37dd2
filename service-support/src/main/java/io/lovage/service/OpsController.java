package io.lovage.service;

import io.lovage.broker.Broker;
import io.lovage.protocol.Json;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import java.util.List;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code /health} (200 UP, or 503 DOWN while the broker connection is down or a {@link Readiness}
 * is not ready yet) and {@code /prometheus}, the same in the producer and the worker.
 */
@Controller
final class OpsController {
  private final Broker broker;
  private final PrometheusMeterRegistry registry;
  private final List<Readiness> readiness;

  OpsController(Broker broker, PrometheusMeterRegistry registry, List<Readiness> readiness) {
    this.broker = broker;
    this.registry = registry;
    this.readiness = List.copyOf(readiness);
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
            description =
                "DOWN, in the same shape: the broker connection is down (its `error` says why,"
                    + " e.g. a certificate no longer trusted), or the service is still"
                    + " starting (a worker not consuming yet: `\"worker\": {\"status\":"
                    + " \"STARTING\"}`)",
            problem = false)
      })
  @WithoutApiKey
  @Get("/health")
  @Produces(MediaType.APPLICATION_JSON)
  HttpResponse<String> health() {
    ObjectNode body = Json.MAPPER.createObjectNode();
    ObjectNode components = Json.MAPPER.createObjectNode();
    boolean up = broker.isConnected();
    ObjectNode rabbitmq = components.putObject("rabbitmq").put("status", up ? "UP" : "DOWN");
    broker.connectionProblem().ifPresent(problem -> rabbitmq.put("error", problem));
    for (Readiness r : readiness) {
      boolean ready = r.ready().getAsBoolean();
      ObjectNode component = components.putObject(r.name());
      component.put("status", ready ? "UP" : "STARTING");
      r.details().get().forEach((key, value) -> component.set(key, Json.MAPPER.valueToTree(value)));
      up &= ready;
    }
    body.put("status", up ? "UP" : "DOWN");
    body.set("components", components);
    return HttpResponse.<String>status(up ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE)
        .body(Json.MAPPER.writeValueAsString(body));
  }

  @ApiDoc(
      summary = "Metrics in Prometheus' text format",
      description =
          "Every meter, or with `name[]=…` (repeatable, as the Prometheus client's own exposition"
              + " takes it) only those metric families, e.g."
              + " `/prometheus?name[]=lovage_worker_tasks_total`: a cheap read of one counter.",
      responses = @ApiResponse(status = 200, description = "the meters of this service"))
  @Get("/prometheus")
  @Produces(PROMETHEUS_TEXT)
  String prometheus(HttpRequest<?> request) {
    List<String> names = request.getParameters().getAll("name[]");
    return names.isEmpty() ? registry.scrape() : registry.scrape(PROMETHEUS_TEXT, families(names));
  }

  /**
   * The metric families of the names asked for: as the page shows them ({@code
   * lovage_worker_tasks_total}) or as the registry keeps them ({@code lovage_worker_tasks}).
   */
  static java.util.Set<String> families(List<String> names) {
    java.util.Set<String> families = new java.util.HashSet<>();
    for (String name : names) {
      families.add(name);
      families.add(name.replaceFirst("_(total|count|sum|bucket|created|info|max)$", ""));
    }
    return families;
  }

  private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
}
