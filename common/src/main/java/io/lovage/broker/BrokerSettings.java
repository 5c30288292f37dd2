package io.lovage.broker;

import java.time.Duration;

/**
 * How to reach RabbitMQ.
 *
 * @param uri e.g. {@code amqp://guest:guest@localhost:5672/%2F}: credentials, virtual host, TLS,
 *     and the node to connect to unless {@code addresses} names nodes
 * @param addresses the nodes of a cluster, {@code host:port} each, tried in a random order per
 *     connection and again on every recovery; empty: the URI's host
 * @param clientName shown as the connection name in the management UI
 * @param publishTimeout how long a publish waits for the broker's confirm before it fails
 * @param heartbeat AMQP heartbeat: how soon a dead connection is noticed
 * @param connectTimeout how long the first connection is retried before giving up
 * @param streamPort the port of RabbitMQ's stream protocol on each node, over which streams are
 *     read ({@link #DEFAULT_STREAM_PORT}, or {@link #DEFAULT_STREAM_TLS_PORT} with an {@code amqps}
 *     URI, when {@link #STREAM_PORT_DEFAULT}); {@link #STREAM_PROTOCOL_OFF} reads them over AMQP
 * @param streamAddresses the stream protocol's {@code host:port} of each node when they are not the
 *     AMQP hosts with {@code streamPort} (e.g. ports mapped by Docker); empty: those
 * @param tls whom to trust and which certificate to show when the URI is {@code amqps://}
 * @param topology whether the shared topology (task queues, exchanges, streams) is declared by this
 *     client or only verified, because whoever manages the broker created it and this client's user
 *     may not configure it (see {@link TopologyMode})
 */
public record BrokerSettings(
    String uri,
    java.util.List<String> addresses,
    String clientName,
    Duration publishTimeout,
    Duration heartbeat,
    Duration connectTimeout,
    int streamPort,
    java.util.List<String> streamAddresses,
    io.lovage.security.TlsSettings tls,
    TopologyMode topology) {

  public static final String DEFAULT_URI = "amqp://guest:guest@localhost:5672/%2F";
  public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(15);
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(60);
  public static final int DEFAULT_STREAM_PORT = 5552;
  public static final int DEFAULT_STREAM_TLS_PORT = 5551;

  /** {@link #streamPort()}: RabbitMQ's default, 5552 (5551 with TLS). */
  public static final int STREAM_PORT_DEFAULT = -1;

  /** {@link #streamPort()}: read streams over AMQP 0.9.1 only. */
  public static final int STREAM_PROTOCOL_OFF = 0;

  public BrokerSettings {
    tls = tls == null ? io.lovage.security.TlsSettings.DEFAULT : tls;
    topology = topology == null ? TopologyMode.DECLARE : topology;
    addresses = java.util.List.copyOf(addresses);
    streamAddresses = java.util.List.copyOf(streamAddresses);
  }

  public static BrokerSettings of(String uri, String clientName) {
    return new BrokerSettings(
        uri == null || uri.isBlank() ? DEFAULT_URI : uri,
        java.util.List.of(),
        clientName,
        DEFAULT_PUBLISH_TIMEOUT,
        DEFAULT_HEARTBEAT,
        DEFAULT_CONNECT_TIMEOUT,
        STREAM_PORT_DEFAULT,
        java.util.List.of(),
        io.lovage.security.TlsSettings.DEFAULT,
        TopologyMode.DECLARE);
  }

  /**
   * Settings from the {@code RABBITMQ_URI} environment variable, or the default URI, the nodes in
   * {@code RABBITMQ_ADDRESSES} and the stream protocol's {@code LOVAGE_STREAM_PORT} and {@code
   * RABBITMQ_STREAM_ADDRESSES} if set.
   */
  public static BrokerSettings fromEnvironment(String clientName) {
    return of(System.getenv("RABBITMQ_URI"), clientName)
        .withAddresses(System.getenv("RABBITMQ_ADDRESSES"))
        .withStreams(
            System.getenv("LOVAGE_STREAM_PORT"), System.getenv("RABBITMQ_STREAM_ADDRESSES"))
        .withTls(io.lovage.security.TlsSettings.fromEnvironment())
        .withPasswordFile(System.getenv("RABBITMQ_PASSWORD_FILE"))
        .withTopology(System.getenv("LOVAGE_TOPOLOGY"));
  }

  /** These settings with TLS as {@code LOVAGE_TLS_*} say; they apply to {@code amqps://} URIs. */
  public BrokerSettings withTls(io.lovage.security.TlsSettings tls) {
    Parts p = parts();
    p.tls = tls;
    return p.build();
  }

  /**
   * These settings with the nodes of a cluster, as {@code RABBITMQ_ADDRESSES} writes them: {@code
   * host1:5672,host2:5672,host3} (the port defaults to 5672, or 5671 with an {@code amqps} URI);
   * null or blank keeps the URI's host.
   *
   * @throws IllegalArgumentException naming the entry that is not {@code host[:port]}
   */
  public BrokerSettings withAddresses(String text) {
    Parts p = parts();
    p.addresses = nodes("RABBITMQ_ADDRESSES", text, "rabbit1:5672,rabbit2:5672,rabbit3:5672");
    return p.build();
  }

  /**
   * These settings with where RabbitMQ's stream protocol listens, as {@code LOVAGE_STREAM_PORT} and
   * {@code RABBITMQ_STREAM_ADDRESSES} write it: a port ({@code 5552}; {@code 0} or {@code off}
   * reads streams over AMQP only; null or blank: the default), and optionally the nodes' stream
   * {@code host:port} list, for when the stream ports are not the AMQP hosts with that port.
   *
   * @throws IllegalArgumentException naming the setting that is not valid
   */
  public BrokerSettings withStreams(String port, String streamNodes) {
    int parsed = STREAM_PORT_DEFAULT;
    if (port != null && !port.isBlank()) {
      String p = port.trim();
      if (p.equalsIgnoreCase("off") || p.equalsIgnoreCase("false")) {
        parsed = STREAM_PROTOCOL_OFF;
      } else if (p.matches("[0-9]{1,5}") && Integer.parseInt(p) <= 65535) {
        parsed = Integer.parseInt(p);
      } else {
        throw new IllegalArgumentException(
            "LOVAGE_STREAM_PORT '" + p + "' is not a port (e.g. 5552) nor 0 or off");
      }
    }
    Parts p = parts();
    p.streamPort = parsed;
    p.streamAddresses =
        nodes("RABBITMQ_STREAM_ADDRESSES", streamNodes, "rabbit1:5552,rabbit2:5552,rabbit3:5552");
    return p.build();
  }

  private static java.util.List<String> nodes(String setting, String text, String example) {
    java.util.List<String> nodes = new java.util.ArrayList<>();
    if (text != null) {
      for (String entry : text.split(",")) {
        String node = entry.trim();
        if (node.isEmpty()) {
          continue;
        }
        if (!node.matches("[A-Za-z0-9._-]+(:[0-9]{1,5})?|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?")) {
          throw new IllegalArgumentException(
              setting + " entry '" + node + "' is not host or host:port, e.g. " + example);
        }
        nodes.add(node);
      }
    }
    return nodes;
  }

  public BrokerSettings withPublishTimeout(Duration timeout) {
    Parts p = parts();
    p.publishTimeout = timeout;
    return p.build();
  }

  public BrokerSettings withHeartbeat(Duration heartbeat) {
    Parts p = parts();
    p.heartbeat = heartbeat;
    return p.build();
  }

  public BrokerSettings withConnectTimeout(Duration timeout) {
    Parts p = parts();
    p.connectTimeout = timeout;
    return p.build();
  }

  /**
   * These settings with the shared topology declared ({@link TopologyMode#DECLARE}) or only
   * verified ({@link TopologyMode#VERIFY}), as {@code LOVAGE_TOPOLOGY} writes it; null or blank:
   * declare.
   *
   * @throws IllegalArgumentException when the text is neither
   */
  public BrokerSettings withTopology(String text) {
    Parts p = parts();
    p.topology = TopologyMode.parse(text);
    return p.build();
  }

  /**
   * These settings with the URI's password replaced by the content of a file (a Docker or
   * Kubernetes secret, as {@code RABBITMQ_PASSWORD_FILE} names it; a final line break is not part
   * of the password), so the password is in neither the environment nor the image; null or blank
   * keeps the URI's.
   *
   * @throws IllegalArgumentException when the file cannot be read
   */
  public BrokerSettings withPasswordFile(String file) {
    if (file == null || file.isBlank()) {
      return this;
    }
    String password;
    try {
      password = java.nio.file.Files.readString(java.nio.file.Path.of(file.trim()));
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "RABBITMQ_PASSWORD_FILE '" + file + "' cannot be read: " + e, e);
    }
    password = password.replaceFirst("\\r?\\n$", "");
    java.net.URI parsed = java.net.URI.create(uri);
    String rawUser = parsed.getRawUserInfo();
    String user = rawUser == null ? "guest" : rawUser.split(":", 2)[0];
    String userInfo =
        user + ":" + java.net.URLEncoder.encode(password, java.nio.charset.StandardCharsets.UTF_8);
    String authority = parsed.getRawAuthority();
    String hostPart =
        authority.contains("@") ? authority.substring(authority.indexOf('@') + 1) : authority;
    Parts p = parts();
    p.uri =
        parsed.getScheme()
            + "://"
            + userInfo.replace("+", "%20")
            + "@"
            + hostPart
            + (parsed.getRawPath() == null ? "" : parsed.getRawPath())
            + (parsed.getRawQuery() == null ? "" : "?" + parsed.getRawQuery());
    return p.build();
  }

  /**
   * Who creates the shared topology: the task queues with their dead-letter queues and exchanges,
   * the delay ladder, the event, revocation, chord, schedule and limit streams.
   */
  public enum TopologyMode {
    /** Each client declares what it uses (the default: a fresh broker works as it is). */
    DECLARE,
    /**
     * Whoever manages the broker created it (from {@code broker-config/definitions.json}); clients
     * only check, passively, that it is there, and declare nothing but their own queues (replies,
     * remote control, locks, permits), so their users need no configure permission on shared names.
     */
    VERIFY;

    static TopologyMode parse(String text) {
      if (text == null || text.isBlank()) {
        return DECLARE;
      }
      return switch (text.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "declare" -> DECLARE;
        case "verify" -> VERIFY;
        default ->
            throw new IllegalArgumentException(
                "LOVAGE_TOPOLOGY '" + text.trim() + "' is neither declare nor verify");
      };
    }
  }

  private Parts parts() {
    Parts p = new Parts();
    p.uri = uri;
    p.addresses = addresses;
    p.clientName = clientName;
    p.publishTimeout = publishTimeout;
    p.heartbeat = heartbeat;
    p.connectTimeout = connectTimeout;
    p.streamPort = streamPort;
    p.streamAddresses = streamAddresses;
    p.tls = tls;
    p.topology = topology;
    return p;
  }

  /** The fields of a copy being made by a {@code with} method. */
  private static final class Parts {
    String uri;
    java.util.List<String> addresses;
    String clientName;
    Duration publishTimeout;
    Duration heartbeat;
    Duration connectTimeout;
    int streamPort;
    java.util.List<String> streamAddresses;
    io.lovage.security.TlsSettings tls;
    TopologyMode topology;

    BrokerSettings build() {
      return new BrokerSettings(
          uri,
          addresses,
          clientName,
          publishTimeout,
          heartbeat,
          connectTimeout,
          streamPort,
          streamAddresses,
          tls,
          topology);
    }
  }
}
