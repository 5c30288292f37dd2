package io.lovage.broker;

import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.stream.Address;
import com.rabbitmq.stream.AddressResolver;
import com.rabbitmq.stream.BackOffDelayPolicy;
import com.rabbitmq.stream.ConsumerFlowStrategy;
import com.rabbitmq.stream.Environment;
import com.rabbitmq.stream.EnvironmentBuilder;
import com.rabbitmq.stream.OffsetSpecification;
import com.rabbitmq.stream.compression.CompressionException;
import com.rabbitmq.stream.compression.CompressionUtils;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads streams over RabbitMQ's stream protocol (port 5552) instead of AMQP 0.9.1: a catch-up reads
 * an order of magnitude more messages per second (see the benchmark's event catch-up row). {@link
 * RabbitBroker} hands it every consume that names an {@code x-stream-offset}; when the stream port
 * cannot be reached the first time, it says why once and the broker keeps reading streams over
 * AMQP.
 *
 * <p>The client recovers its consumers after a lost connection or a broker restart by itself, from
 * the last message it delivered, which is skipped: a reader sees no message twice. Handlers run on
 * the client's thread, one consumer per connection (as a channel each over AMQP), and credit for
 * more chunks is given only while fewer than the consumer's prefetch of messages wait for the
 * handler ({@link PrefetchFlow}): a slow handler slows the read, it does not pile messages up in
 * memory.
 */
final class StreamProtocol implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(StreamProtocol.class);

  /** How long the first probe of the stream port waits for it to answer. */
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

  /**
   * Chunks asked for ahead of the handler. RabbitMQ writes what AMQP publishers send in small
   * chunks (tens of messages): with a chunk or two on the way the read waits on round trips.
   */
  private static final int CREDITS = 16;

  private final BrokerSettings settings;
  private Environment environment;
  private boolean unavailable;

  StreamProtocol(BrokerSettings settings) {
    this.settings = settings;
  }

  /**
   * Consumes {@code stream} from {@code offset} over the stream protocol, or empty when this offset
   * form has no stream-protocol equivalent, or the protocol cannot be used: then the caller reads
   * over AMQP 0.9.1, which also reports a stream that does not exist.
   */
  Optional<Subscription> consume(
      String stream, Object offset, int prefetch, Consumer<Delivery> handler) {
    Optional<OffsetSpecification> from = offset(offset);
    if (from.isEmpty()) {
      return Optional.empty();
    }
    Environment env = environment();
    if (env == null) {
      return Optional.empty();
    }
    // After a reconnect the client starts again at the last message it delivered: skip it.
    java.util.concurrent.atomic.AtomicLong delivered =
        new java.util.concurrent.atomic.AtomicLong(-1);
    try {
      com.rabbitmq.stream.Consumer consumer =
          env.consumerBuilder().stream(stream)
              .offset(from.get())
              .noTrackingStrategy()
              .flow()
              .strategy(new PrefetchFlow(prefetch))
              .builder()
              .messageHandler(
                  (context, message) -> {
                    if (context.offset() <= delivered.get()) {
                      context.processed();
                      return;
                    }
                    delivered.set(context.offset());
                    try {
                      handler.accept(
                          new StreamMessages.StreamDelivery(
                              stream,
                              StreamMessages.message(message, context.offset()),
                              new AtomicBoolean()));
                    } catch (RuntimeException e) {
                      log.warn(
                          "stream reader failed on a message stream={} offset={} error={}",
                          stream,
                          context.offset(),
                          e.toString());
                    } finally {
                      context.processed();
                    }
                  })
              .build();
      log.info("consuming stream={} offset={} protocol=stream", stream, offset);
      return Optional.of(
          () -> {
            try {
              consumer.close();
            } catch (RuntimeException e) {
              log.debug("closing stream consumer failed stream={} error={}", stream, e.toString());
            }
          });
    } catch (RuntimeException e) {
      log.info(
          "cannot read stream over the stream protocol, reading it over AMQP stream={} error={}",
          stream,
          e.toString());
      return Optional.empty();
    }
  }

  /**
   * Credit for another chunk each time one arrives, as long as fewer than {@code prefetch} messages
   * wait for the handler; past that, the credit is given once the handler is below it again. So at
   * most {@code prefetch} messages and the {@link #CREDITS} chunks already asked for are held, as
   * AMQP's prefetch holds at most that many deliveries. (Messages the client skips, before the
   * start offset, count as handled.)
   *
   * <p>Each subscription starts the count over ({@link #initialCredits}, which the client asks at
   * every subscribe, the first and each after a lost connection or a leader change): messages of
   * the chunks a lost connection had delivered but the client never handed over would otherwise
   * stay counted as waiting, and once they reach the prefetch the reader would get no credit again
   * and stop for good.
   */
  static final class PrefetchFlow implements ConsumerFlowStrategy {
    private final int prefetch;
    private final java.util.concurrent.atomic.AtomicLong waiting =
        new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger owed =
        new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger subscription =
        new java.util.concurrent.atomic.AtomicInteger();

    PrefetchFlow(int prefetch) {
      this.prefetch = prefetch;
    }

    @Override
    public int initialCredits() {
      subscription.incrementAndGet();
      waiting.set(0);
      owed.set(0);
      return CREDITS;
    }

    @Override
    public MessageProcessedCallback start(Context chunk) {
      int of = subscription.get();
      if (waiting.addAndGet(chunk.messageCount()) < prefetch) {
        chunk.credits(1);
      } else {
        owed.incrementAndGet();
      }
      return handled -> {
        if (subscription.get() != of) {
          return; // a chunk of an earlier subscription: its credit went with it
        }
        if (waiting.decrementAndGet() < prefetch && owed.get() > 0) {
          int credits = owed.getAndSet(0);
          if (credits > 0) {
            chunk.credits(credits);
          }
        }
      };
    }
  }

  /**
   * The stream protocol's start for an {@code x-stream-offset} value Lovage uses, if it has one.
   */
  static Optional<OffsetSpecification> offset(Object value) {
    if (value instanceof Number n) {
      return Optional.of(OffsetSpecification.offset(n.longValue()));
    }
    if (value instanceof Date d) {
      // AMQP 0.9.1 carries a timestamp in whole seconds: start where it would, not a bit later.
      return Optional.of(OffsetSpecification.timestamp(Math.floorDiv(d.getTime(), 1000) * 1000));
    }
    if (value instanceof String s) {
      return switch (s) {
        case "first" -> Optional.of(OffsetSpecification.first());
        case "last" -> Optional.of(OffsetSpecification.last());
        case "next" -> Optional.of(OffsetSpecification.next());
        default -> Optional.empty(); // an interval such as "10m": AMQP reads it
      };
    }
    return Optional.empty();
  }

  /** The client, connected at the first use; null once the stream port could not be used. */
  private synchronized Environment environment() {
    if (environment != null || unavailable) {
      return environment;
    }
    List<Address> nodes = nodes(settings);
    if (nodes.isEmpty()) {
      unavailable = true;
      log.info("stream protocol off (LOVAGE_STREAM_PORT=0): reading streams over AMQP");
      return null;
    }
    Optional<String> unreachable = probe(nodes);
    if (unreachable.isPresent()) {
      unavailable = true;
      log.info(
          "stream protocol not reachable, reading streams over AMQP (enable the rabbitmq_stream"
              + " plugin, or set LOVAGE_STREAM_PORT or RABBITMQ_STREAM_ADDRESSES) nodes={} error={}",
          nodes,
          unreachable.get());
      return null;
    }
    try {
      environment = builder(settings, nodes).build();
      log.info("reading streams over the stream protocol nodes={}", nodes);
    } catch (RuntimeException e) {
      unavailable = true;
      log.info(
          "stream protocol refused the connection, reading streams over AMQP nodes={} error={}",
          nodes,
          e.toString());
    }
    return environment;
  }

  /** Where the stream protocol listens: the explicit list, else each AMQP host with the port. */
  static List<Address> nodes(BrokerSettings settings) {
    ConnectionFactory factory = RabbitBroker.factoryFor(settings);
    int port =
        settings.streamPort() == BrokerSettings.STREAM_PORT_DEFAULT
            ? factory.isSSL()
                ? BrokerSettings.DEFAULT_STREAM_TLS_PORT
                : BrokerSettings.DEFAULT_STREAM_PORT
            : settings.streamPort();
    if (port == BrokerSettings.STREAM_PROTOCOL_OFF) {
      return List.of();
    }
    List<String> entries = settings.streamAddresses();
    List<Address> nodes = new ArrayList<>();
    if (entries.isEmpty()) {
      for (String node : settings.addresses()) {
        nodes.add(new Address(com.rabbitmq.client.Address.parseAddress(node).getHost(), port));
      }
      if (nodes.isEmpty()) {
        nodes.add(new Address(factory.getHost(), port));
      }
      return nodes;
    }
    for (String entry : entries) {
      com.rabbitmq.client.Address parsed = com.rabbitmq.client.Address.parseAddress(entry);
      nodes.add(new Address(parsed.getHost(), parsed.getPort() < 0 ? port : parsed.getPort()));
    }
    return nodes;
  }

  /** Empty when one of the nodes accepts a connection on its stream port, else why none did. */
  private static Optional<String> probe(List<Address> nodes) {
    String why = "";
    for (Address node : nodes) {
      try (Socket socket = new Socket()) {
        socket.connect(
            new InetSocketAddress(node.host(), node.port()), (int) PROBE_TIMEOUT.toMillis());
        return Optional.empty();
      } catch (IOException e) {
        why = node + ": " + e;
      }
    }
    return Optional.of(why);
  }

  private static EnvironmentBuilder builder(BrokerSettings settings, List<Address> nodes) {
    ConnectionFactory factory = RabbitBroker.factoryFor(settings);
    List<String> uris = new ArrayList<>();
    for (Address node : nodes) {
      uris.add(
          (factory.isSSL() ? "rabbitmq-stream+tls://" : "rabbitmq-stream://")
              + (node.host().contains(":") ? "[" + node.host() + "]" : node.host())
              + ":"
              + node.port());
    }
    EnvironmentBuilder builder =
        Environment.builder()
            .uris(uris)
            .username(factory.getUsername())
            .password(factory.getPassword())
            .virtualHost(factory.getVirtualHost())
            .addressResolver(resolver(nodes))
            // A handler runs on its connection's thread: a consumer of its own per connection,
            // as each has a channel of its own over AMQP, so one slow reader holds back no other.
            .maxConsumersByConnection(1)
            // Its connections show as "<id>-consumer-<n>" and "<id>-locator-<n>".
            .id(settings.clientName() + " streams")
            // Reconnect as the AMQP connections do, every second, and for as long as it takes: a
            // broker restart must not leave a reader stopped for good.
            .recoveryBackOffDelayPolicy(BackOffDelayPolicy.fixed(Duration.ofSeconds(1)))
            .topologyUpdateBackOffDelayPolicy(
                BackOffDelayPolicy.fixedWithInitialDelay(
                    Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofDays(365)))
            // Only stream-protocol publishers compress, and Lovage publishes over AMQP; gzip
            // needs no native library (the others' are left out of the dependency).
            .compressionCodecFactory(
                compression -> {
                  if (compression == com.rabbitmq.stream.compression.Compression.GZIP) {
                    return new CompressionUtils.GzipCompressionCodec();
                  }
                  throw new CompressionException("no codec for " + compression + " compression");
                });
    if (builder instanceof com.rabbitmq.stream.impl.StreamEnvironmentBuilder withCodec) {
      withCodec.codec(new StreamMessages.HeaderKeepingCodec());
    }
    if (factory.isSSL()) {
      io.lovage.security.TlsSettings tls = settings.tls();
      EnvironmentBuilder.TlsConfiguration configuration = builder.tls();
      if (tls.insecure()) {
        configuration.trustEverything();
      } else {
        // The client verifies host names by default; trust and show what the AMQP link does.
        try {
          io.netty.handler.ssl.SslContextBuilder context =
              io.netty.handler.ssl.SslContextBuilder.forClient().trustManager(tls.trustManagers());
          tls.keyManagers().ifPresent(context::keyManager);
          configuration.sslContext(context.build());
        } catch (javax.net.ssl.SSLException e) {
          throw new IllegalStateException("cannot set up TLS for the stream protocol: " + e, e);
        }
      }
    }
    return builder;
  }

  /**
   * Where to connect to reach a node that hosts a stream, given the host and port the node
   * advertises (its host name and stream port, unless {@code stream.advertised_host/port} are set):
   *
   * <ul>
   *   <li>one configured address (a single node, Docker's mapped port, or a load balancer in front
   *       of a cluster): that address; the client retries until it lands on a node it can use;
   *   <li>several nodes all on this machine (a local cluster): localhost with the advertised port;
   *   <li>otherwise the configured address of that host if there is one, else the advertised one.
   * </ul>
   */
  static AddressResolver resolver(List<Address> nodes) {
    List<Address> distinct = nodes.stream().distinct().toList();
    boolean local = distinct.stream().allMatch(node -> isLoopback(node.host()));
    return advertised -> {
      if (distinct.size() == 1) {
        return distinct.get(0);
      }
      if (local) {
        return new Address(distinct.get(0).host(), advertised.port());
      }
      for (Address node : distinct) {
        if (node.host().equalsIgnoreCase(advertised.host())) {
          return node;
        }
      }
      return advertised;
    };
  }

  private static boolean isLoopback(String host) {
    return host.equalsIgnoreCase("localhost")
        || host.startsWith("127.")
        || host.equals("::1")
        || host.equals("[::1]");
  }

  @Override
  public synchronized void close() {
    if (environment != null) {
      try {
        environment.close();
      } catch (RuntimeException e) {
        log.debug("closing the stream protocol client failed error={}", e.toString());
      }
      environment = null;
    }
    unavailable = true;
  }
}
