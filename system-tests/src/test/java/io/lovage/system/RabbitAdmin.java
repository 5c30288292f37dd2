package io.lovage.system;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.lovage.protocol.Json;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import tools.jackson.databind.JsonNode;

/**
 * What the fault scenarios need of the test broker beyond {@link RabbitFixture}: exact queue
 * depths, raw publishes that bypass Lovage's client, the management API's view of connections and
 * alarms, and a full stop and start of the RabbitMQ node.
 */
final class RabbitAdmin {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private RabbitAdmin() {}

  /** Messages ready in a queue, exactly (AMQP passive declare; the management API lags). */
  static long ready(String queue) {
    try (Connection c = connect("faults admin");
        Channel channel = c.createChannel()) {
      return channel.queueDeclarePassive(queue).getMessageCount();
    } catch (Exception e) {
      throw new IllegalStateException("cannot read the depth of " + queue + ": " + e, e);
    }
  }

  /**
   * Publishes a message as it is to a queue through the default exchange, persistent and confirmed:
   * what a buggy or hostile client could put there.
   */
  static void publishRaw(String queue, AMQP.BasicProperties properties, byte[] body) {
    publishRaw("", queue, properties, body);
  }

  static void publishRaw(
      String exchange, String routingKey, AMQP.BasicProperties properties, byte[] body) {
    try (Connection c = connect("faults raw publisher");
        Channel channel = c.createChannel()) {
      channel.confirmSelect();
      channel.basicPublish(
          exchange, routingKey, true, properties.builder().deliveryMode(2).build(), body);
      channel.waitForConfirmsOrDie(10_000);
    } catch (Exception e) {
      throw new IllegalStateException(
          "raw publish to " + exchange + "/" + routingKey + " failed: " + e, e);
    }
  }

  private static Connection connect(String name) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(RabbitFixture.uri());
    factory.setAutomaticRecoveryEnabled(false);
    return factory.newConnection(name);
  }

  /**
   * The heartbeat timeout the broker agreed with a connection whose name starts with {@code
   * prefix}, in seconds, once the management API lists it.
   */
  static Optional<Integer> heartbeatOfPrefix(String prefix) {
    return management("/api/connections?columns=client_properties.connection_name,timeout")
        .flatMap(
            list -> {
              for (JsonNode c : list) {
                if (c.at("/client_properties/connection_name").asString("").startsWith(prefix)) {
                  return Optional.of(c.get("timeout").asInt());
                }
              }
              return Optional.empty();
            });
  }

  /** Whether the node's memory alarm is on, as the management API says. */
  static Optional<Boolean> memoryAlarm() {
    return management("/api/nodes?columns=mem_alarm")
        .map(nodes -> nodes.get(0).get("mem_alarm").asBoolean());
  }

  /**
   * Imports broker-config/definitions.json's topology (exchanges, queues, bindings, policies; not
   * its users) into a virtual host, as a broker managed elsewhere would have it.
   */
  static void importTopology(String vhost) {
    try {
      JsonNode file =
          Json.MAPPER.readTree(Path.of("..", "broker-config", "definitions.json").toFile());
      tools.jackson.databind.node.ObjectNode topology = Json.MAPPER.createObjectNode();
      for (String part : java.util.List.of("exchanges", "queues", "bindings", "policies")) {
        tools.jackson.databind.node.ArrayNode items = topology.putArray(part);
        for (JsonNode item : file.get(part)) {
          items.add(((tools.jackson.databind.node.ObjectNode) item.deepCopy()).without("vhost"));
        }
      }
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create(
                          managementBase()
                              + "/api/definitions/"
                              + java.net.URLEncoder.encode(vhost, StandardCharsets.UTF_8)))
                  .header("Authorization", "Basic " + credentials())
                  .header("Content-Type", "application/json")
                  // Not an HTTP/2 upgrade: RabbitMQ's web server resets such a POST.
                  .version(HttpClient.Version.HTTP_1_1)
                  .timeout(Duration.ofSeconds(30))
                  .POST(HttpRequest.BodyPublishers.ofString(topology.toString()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() / 100 != 2) {
        throw new IllegalStateException(r.statusCode() + " " + r.body());
      }
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("cannot import the topology into " + vhost + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A management API {@code GET} as some user: its status code and body. */
  static HttpResponse<String> managementGet(String path, String user, String password)
      throws IOException, InterruptedException {
    String plain = user + ":" + password;
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(managementBase() + path))
            .header(
                "Authorization",
                "Basic "
                    + Base64.getEncoder().encodeToString(plain.getBytes(StandardCharsets.UTF_8)))
            .version(HttpClient.Version.HTTP_1_1)
            .timeout(Duration.ofSeconds(5))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The management API's base URI, {@code http://host:port}, without credentials. */
  static String managementApi() {
    return managementBase();
  }

  private static Optional<JsonNode> management(String path) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(managementBase() + path))
                  .header("Authorization", "Basic " + credentials())
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? Optional.of(Json.MAPPER.readTree(r.body())) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private static String managementBase() {
    String fromFixture = RabbitFixture.managementUri();
    URI base = URI.create(fromFixture != null ? fromFixture : RabbitFixture.uri());
    return "http://" + base.getHost() + ":" + (fromFixture != null ? base.getPort() : 15672);
  }

  private static String credentials() {
    String fromFixture = RabbitFixture.managementUri();
    String userInfo =
        URI.create(fromFixture != null ? fromFixture : RabbitFixture.uri()).getRawUserInfo();
    String plain =
        userInfo == null ? "guest:guest" : URLDecoder.decode(userInfo, StandardCharsets.UTF_8);
    return Base64.getEncoder().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Stops the whole RabbitMQ node (the Erlang VM, not only the application) and starts it again
   * with {@code rabbitmq-server -detached}, as a host reboot or a package upgrade would; waits
   * until it answers. Needs the broker of {@code RABBITMQ_URI} on this machine.
   */
  static void stopNode() {
    RabbitFixture.rabbitmqctl("shutdown");
  }

  static void startNode(Path log) {
    RabbitFixture.startNode(log);
  }

  /** Whether the node is up and its application running. */
  static boolean answers() {
    return RabbitFixture.nodeAnswers();
  }
}
