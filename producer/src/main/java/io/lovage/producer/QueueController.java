package io.lovage.producer;

import io.lovage.protocol.Json;
import io.lovage.service.Problem;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.util.List;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code GET /queues}: per queue, messages ready and unacknowledged, consumers and rates, from the
 * RabbitMQ management API ({@link RabbitManagement}). The delay ladder's internal queues are left
 * out.
 */
@Controller("/queues")
@ExecuteOn(TaskExecutors.BLOCKING)
final class QueueController {
  private final RabbitManagement management;

  QueueController(RabbitManagement management) {
    this.management = management;
  }

  @ApiDoc(
      summary = "Messages, consumers and rates per queue",
      description = "From the RabbitMQ management API; the delay queues are left out.",
      responses = {
        @ApiResponse(
            status = 200,
            description =
                "`{\"queues\": [{\"name\", \"type\", \"ready\", \"unacknowledged\","
                    + " \"consumers\", \"publishRate\", \"deliverRate\", \"ackRate\"}]}`"),
        @ApiResponse(
            status = 503,
            description = "the management API is not reachable",
            headers = "Retry-After")
      })
  @Get
  @Produces(MediaType.APPLICATION_JSON)
  MutableHttpResponse<String> list() {
    List<RabbitManagement.QueueStats> queues;
    try {
      queues = management.queues();
    } catch (RabbitManagement.Unavailable e) {
      return new Problem(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage(), null)
          .response()
          .header("Retry-After", String.valueOf(TaskController.RETRY_AFTER_SECONDS));
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode list = body.putArray("queues");
    for (RabbitManagement.QueueStats q : queues) {
      ObjectNode item = list.addObject();
      item.put("name", q.name());
      item.put("type", q.type());
      item.put("ready", q.ready());
      item.put("unacknowledged", q.unacknowledged());
      item.put("consumers", q.consumers());
      item.put("publishRate", q.publishRate());
      item.put("deliverRate", q.deliverRate());
      item.put("ackRate", q.ackRate());
    }
    return HttpResponse.ok(Json.MAPPER.writeValueAsString(body));
  }
}
