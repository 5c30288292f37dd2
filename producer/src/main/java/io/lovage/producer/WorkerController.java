package io.lovage.producer;

import io.lovage.protocol.Json;
import io.lovage.result.WorkerDirectory;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code GET /workers}: the workers alive now, Lovage's and Celery's, from their heartbeats. */
@Controller("/workers")
final class WorkerController {
  private final WorkerDirectory workers;

  WorkerController(WorkerDirectory workers) {
    this.workers = workers;
  }

  @ApiDoc(
      summary = "The workers alive now, Lovage's and Celery's",
      description =
          "From their heartbeats; a worker leaves the list when it stops or misses three"
              + " heartbeats.",
      responses =
          @ApiResponse(
              status = 200,
              description =
                  "`{\"workers\": [{\"hostname\", \"software\", \"active\","
                      + " \"processed\", \"heartbeatSeconds\", \"lastSeen\"}]}`"))
  @Get
  @Produces(MediaType.APPLICATION_JSON)
  String list() {
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode list = body.putArray("workers");
    for (WorkerDirectory.WorkerInfo w : workers.alive()) {
      ObjectNode json = list.addObject();
      json.put("hostname", w.hostname());
      json.put("software", w.software());
      json.put("active", w.active());
      json.put("processed", w.processed());
      json.put("heartbeatSeconds", w.freq());
      json.put("lastSeen", w.lastSeen().toString());
    }
    return Json.MAPPER.writeValueAsString(body);
  }
}
