package io.lovage.producer;

import io.lovage.broker.BrokerSettings;
import io.lovage.broker.LovageTopology;
import io.lovage.protocol.Json;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * The RabbitMQ management API ({@code LOVAGE_MANAGEMENT_URI}, by default the broker's host on port
 * 15672 with the broker's credentials): the task queues with their depth, consumers and rates, for
 * {@code GET /queues} and the dashboard.
 */
@Singleton
final class RabbitManagement {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  /** One queue as the management API reports it. */
  record QueueStats(
      String name,
      String type,
      long ready,
      long unacknowledged,
      int consumers,
      double publishRate,
      double deliverRate,
      double ackRate) {}

  /** The management API did not answer, or answered an error; the message says which. */
  static final class Unavailable extends Exception {
    Unavailable(String message) {
      super(message);
    }
  }

  private final HttpClient http;
  private final URI root;
  private final String authorization;
  private final String vhost;

  RabbitManagement(
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
    // Without the user info: this address is also shown to people as a link.
    this.root =
        URI.create(
            management.getScheme()
                + "://"
                + management.getHost()
                + ":"
                + management.getPort()
                + "/");
    String path = broker.getRawPath();
    this.vhost =
        path == null || path.length() <= 1
            ? "/"
            : URLDecoder.decode(path.substring(1), StandardCharsets.UTF_8);
  }

  /** The queues of the broker's vhost, without the delay ladder's and RabbitMQ's own. */
  List<QueueStats> queues() throws Unavailable {
    JsonNode queues;
    URI api = root.resolve("api/");
    try {
      HttpRequest.Builder request =
          HttpRequest.newBuilder(api.resolve("queues/" + encode(vhost))).timeout(TIMEOUT);
      if (authorization != null) {
        request.header("Authorization", authorization);
      }
      var response = http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new Unavailable("the management API answered " + response.statusCode());
      }
      queues = Json.MAPPER.readTree(response.body());
    } catch (IOException e) {
      throw new Unavailable(
          "the management API at " + api + " is not reachable: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unavailable("interrupted");
    }
    List<QueueStats> list = new ArrayList<>();
    for (JsonNode q : queues) {
      String name = q.path("name").asString("");
      if (name.startsWith(LovageTopology.DELAY_EXCHANGE_PREFIX) || name.startsWith("amq.")) {
        continue;
      }
      JsonNode stats = q.path("message_stats");
      list.add(
          new QueueStats(
              name,
              q.path("type").asString(null),
              q.path("messages_ready").asLong(0),
              q.path("messages_unacknowledged").asLong(0),
              q.path("consumers").asInt(0),
              stats.at("/publish_details/rate").asDouble(0),
              stats.at("/deliver_get_details/rate").asDouble(0),
              stats.at("/ack_details/rate").asDouble(0)));
    }
    return list;
  }

  /** The management UI's page of a queue, for people (no credentials in it). */
  String queuePage(String queue) {
    return root + "#/queues/" + encode(vhost) + "/" + encode(queue);
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
