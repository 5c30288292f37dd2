package io.lovage.producer;

import io.lovage.broker.BrokerSettings;
import io.lovage.broker.LovageTopology;
import io.lovage.protocol.Json;
import io.lovage.service.Problem;
import io.lovage.service.openapi.ApiDoc;
import io.lovage.service.openapi.ApiResponse;
import io.micronaut.context.annotation.Value;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Produces;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code GET /queues}: per queue, messages ready and unacknowledged, consumers and rates, from the
 * RabbitMQ management API ({@code LOVAGE_MANAGEMENT_URI}, by default the broker's host on port
 * 15672 with the broker's credentials). The delay ladder's internal queues are left out.
 */
@Controller("/queues")
@ExecuteOn(TaskExecutors.BLOCKING)
final class QueueController {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private final HttpClient http;
  private final URI api;
  private final String authorization;
  private final String vhost;

  QueueController(
      @Value("${rabbitmq.uri:}") String brokerUri,
      @Value("${lovage.management.uri:}") String managementUri,
      @Value("${rabbitmq.password.file:}") String passwordFile,
      io.lovage.security.TlsSettings tls) {
    // Over https the management API is trusted as the broker is: LOVAGE_TLS_CA_FILE and the rest.
    this.http =
        HttpClient.newBuilder().connectTimeout(TIMEOUT).sslContext(tls.sslContext()).build();
    // The broker's user and password (RABBITMQ_PASSWORD_FILE's, if set) unless the management
    // URI names its own.
    URI broker = URI.create(BrokerSettings.of(brokerUri, "").withPasswordFile(passwordFile).uri());
    URI management =
        URI.create(
            managementUri.isBlank()
                // With TLS to the broker, its management API's TLS port (RabbitMQ's 15671).
                ? ("amqps".equalsIgnoreCase(broker.getScheme()) ? "https://" : "http://")
                    + (broker.getRawUserInfo() == null ? "" : broker.getRawUserInfo() + "@")
                    + broker.getHost()
                    + ("amqps".equalsIgnoreCase(broker.getScheme()) ? ":15671" : ":15672")
                : managementUri);
    String userInfo =
        management.getRawUserInfo() != null ? management.getRawUserInfo() : broker.getRawUserInfo();
    this.authorization =
        userInfo == null
            ? null
            : "Basic "
                + Base64.getEncoder()
                    .encodeToString(
                        URLDecoder.decode(userInfo, StandardCharsets.UTF_8)
                            .getBytes(StandardCharsets.UTF_8));
    this.api =
        URI.create(
            management.getScheme()
                + "://"
                + management.getHost()
                + ":"
                + management.getPort()
                + "/api/");
    String path = broker.getRawPath();
    this.vhost =
        path == null || path.length() <= 1
            ? "/"
            : URLDecoder.decode(path.substring(1), StandardCharsets.UTF_8);
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
    JsonNode queues;
    try {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(
                  api.resolve("queues/" + URLEncoder.encode(vhost, StandardCharsets.UTF_8)))
              .timeout(TIMEOUT);
      if (authorization != null) {
        request.header("Authorization", authorization);
      }
      var response = http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        return unavailable("the management API answered " + response.statusCode());
      }
      queues = Json.MAPPER.readTree(response.body());
    } catch (IOException e) {
      return unavailable("the management API at " + api + " is not reachable: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return unavailable("interrupted");
    }
    ObjectNode body = Json.MAPPER.createObjectNode();
    ArrayNode list = body.putArray("queues");
    for (JsonNode q : queues) {
      String name = q.path("name").asString("");
      if (name.startsWith(LovageTopology.DELAY_EXCHANGE_PREFIX) || name.startsWith("amq.")) {
        continue;
      }
      ObjectNode item = list.addObject();
      item.put("name", name);
      item.put("type", q.path("type").asString(null));
      item.put("ready", q.path("messages_ready").asLong(0));
      item.put("unacknowledged", q.path("messages_unacknowledged").asLong(0));
      item.put("consumers", q.path("consumers").asInt(0));
      JsonNode stats = q.path("message_stats");
      item.put("publishRate", stats.at("/publish_details/rate").asDouble(0));
      item.put("deliverRate", stats.at("/deliver_get_details/rate").asDouble(0));
      item.put("ackRate", stats.at("/ack_details/rate").asDouble(0));
    }
    return HttpResponse.ok(Json.MAPPER.writeValueAsString(body));
  }

  private static MutableHttpResponse<String> unavailable(String detail) {
    return new Problem(HttpStatus.SERVICE_UNAVAILABLE, detail, null)
        .response()
        .header("Retry-After", String.valueOf(TaskController.RETRY_AFTER_SECONDS));
  }
}
