package io.lovage.broker;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.recovery.AutorecoveringChannel;
import com.rabbitmq.client.impl.recovery.RecordedBinding;
import com.rabbitmq.client.impl.recovery.RecordedConsumer;
import com.rabbitmq.client.impl.recovery.RecordedExchange;
import com.rabbitmq.client.impl.recovery.RecordedQueue;
import com.rabbitmq.client.impl.recovery.RecoveryAwareChannelN;
import com.rabbitmq.client.impl.recovery.TopologyRecoveryFilter;
import com.rabbitmq.client.impl.recovery.TopologyRecoveryRetryHandlerBuilder;
import com.rabbitmq.client.impl.recovery.TopologyRecoveryRetryLogic;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Broker} on RabbitMQ through the Java client.
 *
 * <p>Publishing and consuming use separate connections, so a broker that blocks publishers (memory
 * or disk alarm) never stalls consumers and their acknowledgements. Publishes are mandatory and
 * confirmed; a returned message fails its future even though the broker confirms it afterwards.
 * Both connections recover by themselves (the client's automatic recovery, consumers included).
 * Streams are read over RabbitMQ's stream protocol when its port answers ({@link StreamProtocol}),
 * else over the consuming connection.
 */
public final class RabbitBroker implements Broker {
  private static final Logger log = LoggerFactory.getLogger(RabbitBroker.class);

  /**
   * One thread for every broker of the JVM: it fails the publishes whose confirm is overdue, and
   * sends acknowledgements that waited long enough.
   */
  private static final java.util.concurrent.ScheduledExecutorService SWEEPER =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("lovage-confirm-timeouts").factory());

  private final BrokerSettings settings;
  private final Connection publishing;

  /** The publishing connection's sockets, whose writes a publish gathers; null over TLS. */
  private final GatheringSockets gathering;

  private final Connection consuming;
  private final Publisher publisher;

  /** A publisher per set of streams a publish reaches ({@link StreamLanes}). */
  private final Map<String, Publisher> laned = new ConcurrentHashMap<>();

  private final StreamLanes lanes = new StreamLanes();
  private final java.util.concurrent.ScheduledFuture<?> sweeping;

  /**
   * The consumer channels with acknowledgements waiting for older deliveries ({@link ChannelAcks}).
   */
  private final Set<ChannelAcks> acksWaiting = ConcurrentHashMap.newKeySet();

  private final Set<String> transientNames;
  private final StreamProtocol streams;

  private Channel topologyChannel;

  private final RecoveryProblems problems;

  private RabbitBroker(
      BrokerSettings settings,
      Connection publishing,
      GatheringSockets gathering,
      Connection consuming,
      Set<String> transientNames,
      RecoveryProblems problems) {
    this.problems = problems;
    this.settings = settings;
    this.publishing = publishing;
    this.gathering = gathering;
    this.consuming = consuming;
    this.publisher = new Publisher();
    long every = sweepEvery(settings.publishTimeout()).toMillis();
    this.sweeping =
        SWEEPER.scheduleWithFixedDelay(
            this::expireOverdue, every, every, java.util.concurrent.TimeUnit.MILLISECONDS);
    this.transientNames = transientNames;
    this.streams = new StreamProtocol(settings);
  }

  /**
   * A connection factory with the URI's host, port, credentials, virtual host and whether it uses
   * TLS (the TLS context itself is set up by {@link #connect}).
   *
   * @throws BrokerException when the URI is not valid (named without its password)
   */
  static ConnectionFactory factoryFor(BrokerSettings settings) {
    ConnectionFactory factory = new ConnectionFactory();
    try {
      factory.setUri(settings.uri());
    } catch (Exception e) {
      throw new BrokerException("invalid RABBITMQ_URI '" + redact(settings.uri()) + "'", e);
    }
    return factory;
  }

  /** Connects, retrying for {@link BrokerSettings#connectTimeout()} while the broker is not up. */
  public static RabbitBroker connect(BrokerSettings settings) {
    ConnectionFactory factory = factoryFor(settings);
    if (factory.isSSL()) {
      // setUri alone trusts any certificate: trust what the settings say, and check the host name.
      factory.useSslProtocol(settings.tls().sslContext());
      if (!settings.tls().insecure()) {
        factory.enableHostnameVerification();
      }
    }
    factory.setAutomaticRecoveryEnabled(true);
    factory.setTopologyRecoveryEnabled(true);
    Set<String> transientNames = ConcurrentHashMap.newKeySet();
    factory.setTopologyRecoveryFilter(new RecoverConsumersAndTransientTopology(transientNames));
    // Right after a broker restart a stream or quorum queue may not be up yet (404 "home node
    // ... is down"): recovering its consumer is retried for up to a minute instead of given up.
    factory.setTopologyRecoveryRetryHandler(
        TopologyRecoveryRetryHandlerBuilder.builder()
            .consumerRecoveryRetryCondition(TopologyRecoveryRetryLogic.CHANNEL_CLOSED_NOT_FOUND)
            .consumerRecoveryRetryOperation(
                TopologyRecoveryRetryLogic.RECOVER_CHANNEL.andThen(
                    TopologyRecoveryRetryLogic.RECOVER_CONSUMER))
            .queueRecoveryRetryCondition(TopologyRecoveryRetryLogic.CHANNEL_CLOSED_NOT_FOUND)
            .queueRecoveryRetryOperation(
                TopologyRecoveryRetryLogic.RECOVER_CHANNEL.andThen(
                    TopologyRecoveryRetryLogic.RECOVER_QUEUE))
            .backoffPolicy(attempt -> Thread.sleep(1000))
            .retryAttempts(60)
            .build());
    factory.setNetworkRecoveryInterval(1000);
    factory.setRequestedHeartbeat((int) settings.heartbeat().toSeconds());
    factory.setConnectionTimeout(10_000);
    if (factory.isSSL()) {
      if (settings.tls().insecure()) {
        log.warn("TLS to RabbitMQ {}: never do this in production", settings.tls().describe());
      } else {
        log.info("TLS to RabbitMQ: {}", settings.tls().describe());
      }
    } else if (settings.tls().isSet()) {
      log.warn(
          "LOVAGE_TLS_* settings are set but RABBITMQ_URI is not amqps://: the connection to"
              + " RabbitMQ is not encrypted");
    }
    RecoveryProblems problems = new RecoveryProblems(factory.getHost());
    factory.setExceptionHandler(problems);
    long deadline = System.nanoTime() + settings.connectTimeout().toNanos();
    while (true) {
      try {
        GatheringSockets gathering = factory.isSSL() ? null : new GatheringSockets();
        if (gathering != null) {
          factory.setSocketFactory(gathering);
        }
        Connection publishing = newConnection(factory, settings, " publish");
        if (gathering != null) {
          factory.setSocketFactory(javax.net.SocketFactory.getDefault());
        }
        Connection consuming = newConnection(factory, settings, " consume");
        log.info(
            "connected broker={} nodes={} client={}",
            redact(settings.uri()),
            settings.addresses().isEmpty() ? "the URI's" : settings.addresses(),
            settings.clientName());
        return new RabbitBroker(
            settings, publishing, gathering, consuming, transientNames, problems);
      } catch (IOException | TimeoutException e) {
        // A certificate that is not trusted now will not be in a second: say why, at once.
        java.util.Optional<String> tls =
            io.lovage.security.TlsSettings.explain(e, factory.getHost())
                .or(() -> java.util.Optional.ofNullable(problems.tls.get()));
        if (tls.isPresent()) {
          throw new BrokerException(
              "cannot connect to RabbitMQ at " + redact(settings.uri()) + ": " + tls.get(), e);
        }
        if (System.nanoTime() > deadline) {
          throw new BrokerException(
              "cannot connect to RabbitMQ at " + redact(settings.uri()) + ": " + e, e);
        }
        log.warn(
            "broker not reachable yet broker={} error={}", redact(settings.uri()), e.toString());
        try {
          Thread.sleep(1000);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new BrokerException("interrupted while connecting", interrupted);
        }
      }
    }
  }

  /**
   * A connection to the URI's node, or to one of the settings' nodes: the client tries them in a
   * random order (each connection its own), and again on every recovery, so connections spread over
   * a cluster and move to another node when theirs is lost.
   */
  private static Connection newConnection(
      ConnectionFactory factory, BrokerSettings settings, String role)
      throws IOException, TimeoutException {
    if (settings.addresses().isEmpty()) {
      return factory.newConnection(settings.clientName() + role);
    }
    int port = factory.isSSL() ? ConnectionFactory.DEFAULT_AMQP_OVER_SSL_PORT : factory.getPort();
    List<com.rabbitmq.client.Address> nodes = new java.util.ArrayList<>();
    for (String node : settings.addresses()) {
      com.rabbitmq.client.Address parsed = com.rabbitmq.client.Address.parseAddress(node);
      nodes.add(
          parsed.getPort() < 0 ? new com.rabbitmq.client.Address(parsed.getHost(), port) : parsed);
    }
    java.util.Collections.shuffle(nodes);
    return factory.newConnection(nodes, settings.clientName() + role);
  }

  /**
   * The client's default handling, which also keeps why the last recovery of a connection failed:
   * {@link #connectionProblem} says it while the connection is down (e.g. the broker's certificate
   * changed to one no longer trusted).
   */
  private static final class RecoveryProblems
      extends com.rabbitmq.client.impl.DefaultExceptionHandler {
    private final java.util.concurrent.atomic.AtomicReference<String> last =
        new java.util.concurrent.atomic.AtomicReference<>();

    /** Why TLS failed on a connection's own thread: TLS 1.3 refuses a client certificate there. */
    private final java.util.concurrent.atomic.AtomicReference<String> tls =
        new java.util.concurrent.atomic.AtomicReference<>();

    private final String host;

    RecoveryProblems(String host) {
      this.host = host;
    }

    @Override
    public void handleUnexpectedConnectionDriverException(Connection connection, Throwable e) {
      io.lovage.security.TlsSettings.explain(e, host).ifPresent(tls::set);
      super.handleUnexpectedConnectionDriverException(connection, e);
    }

    @Override
    public void handleConnectionRecoveryException(Connection connection, Throwable exception) {
      last.set(
          io.lovage.security.TlsSettings.explain(exception, host)
              .orElse("reconnecting failed: " + exception));
      super.handleConnectionRecoveryException(connection, exception);
    }
  }

  /**
   * What the client re-declares after a reconnect: consumers, and the transient exchanges and
   * queues (listener and remote-control queues, Celery's pidbox exchanges) with their bindings, and
   * durable queues that expire when unused (reply queues), which may have expired meanwhile.
   * Transient queues are exclusive, so they go with the connection and must come back with it.
   * Other durable exchanges and queues outlive a broker restart by themselves.
   */
  private record RecoverConsumersAndTransientTopology(Set<String> transientNames)
      implements TopologyRecoveryFilter {
    @Override
    public boolean filterExchange(RecordedExchange exchange) {
      return transientNames.contains(exchange.getName());
    }

    @Override
    public boolean filterQueue(RecordedQueue queue) {
      return transientNames.contains(queue.getName());
    }

    @Override
    public boolean filterBinding(RecordedBinding binding) {
      return transientNames.contains(binding.getDestination());
    }

    @Override
    public boolean filterConsumer(RecordedConsumer consumer) {
      return true;
    }
  }

  static String redact(String uri) {
    return uri == null ? null : uri.replaceAll("//([^:/@]+):[^@/]*@", "//$1:***@");
  }

  @Override
  public synchronized List<String> declare(Topology topology) {
    lanes.learn(topology);
    if (settings.topology() == BrokerSettings.TopologyMode.VERIFY) {
      return verify(topology);
    }
    List<String> mismatches = new ArrayList<>();
    Channel channel = null;
    try {
      // A channel that lives on (and is recovered with its connection): the client re-declares
      // transient queues after a reconnect on the channel they were declared on.
      channel = topologyChannel();
      for (Topology.Exchange exchange : topology.exchanges()) {
        declareExchange(channel, exchange);
      }
      for (Topology.Queue queue : topology.queues()) {
        try {
          declareQueue(channel, queue);
        } catch (IOException e) {
          if (!isPreconditionFailed(e)) {
            throw e;
          }
          // The queue exists with other arguments (e.g. created by Celery as a classic queue):
          // use it as it is rather than refuse to work. The channel is closed by the error.
          String why = rootMessage(e);
          log.warn(
              "queue exists with other arguments, using it as it is queue={} detail=\"{}\"",
              queue.name(),
              why);
          mismatches.add(why);
          channel = topologyChannel();
        }
      }
      for (Topology.Binding binding : topology.bindings()) {
        bind(channel, binding);
      }
      return mismatches;
    } catch (IOException | ShutdownSignalException e) {
      throw new BrokerException("declaring topology failed: " + rootMessage(e), e);
    }
  }

  /**
   * {@link BrokerSettings.TopologyMode#VERIFY}: the shared topology (durable exchanges, durable
   * queues without an expiry, the bindings between them) was created by whoever manages the broker,
   * so it is only checked, passively, which needs no permission; what is this client's own
   * (transient exchanges, transient or expiring queues, and bindings to those) is declared as
   * usual, under the names its user may configure.
   */
  private List<String> verify(Topology topology) {
    Set<String> own = new java.util.HashSet<>();
    String checking = null;
    try {
      Channel channel = topologyChannel();
      for (Topology.Exchange exchange : topology.exchanges()) {
        if (exchange.durable()) {
          checking = "exchange '" + exchange.name() + "'";
          channel.exchangeDeclarePassive(exchange.name());
        } else {
          checking = null;
          declareExchange(channel, exchange);
          own.add(exchange.name());
        }
      }
      for (Topology.Queue queue : topology.queues()) {
        if (!queue.goesAway()) {
          checking = "queue '" + queue.name() + "'";
          channel.queueDeclarePassive(queue.name());
        } else {
          checking = null;
          declareQueue(channel, queue);
          own.add(queue.name());
        }
      }
      checking = null;
      for (Topology.Binding binding : topology.bindings()) {
        if (own.contains(binding.destination())) {
          bind(channel, binding);
        }
      }
      return List.of();
    } catch (IOException | ShutdownSignalException e) {
      if (checking != null && isNotFound(e)) {
        throw new BrokerException(
            checking
                + " does not exist, and LOVAGE_TOPOLOGY=verify leaves creating it to whoever"
                + " manages the broker: add it to the definitions the broker imports"
                + " (broker-config/definitions.json), or start once with LOVAGE_TOPOLOGY=declare"
                + " as a user that may configure it (docs/security.md, \"Broker users per role\")",
            e);
      }
      throw new BrokerException("declaring topology failed: " + rootMessage(e), e);
    }
  }

  private void declareExchange(Channel channel, Topology.Exchange exchange) throws IOException {
    if (!exchange.durable()) {
      transientNames.add(exchange.name());
    }
    channel.exchangeDeclare(exchange.name(), exchange.type(), exchange.durable());
  }

  private void declareQueue(Channel channel, Topology.Queue queue) throws IOException {
    // A transient queue is exclusive to this connection (RabbitMQ 4.3 refuses transient
    // queues that are not): it goes with the connection, and recovery declares it again.
    if (queue.remembered() && queue.goesAway()) {
      transientNames.add(queue.name());
    }
    channel.queueDeclare(queue.name(), queue.durable(), !queue.durable(), false, queue.arguments());
    if (!queue.remembered()
        && consuming instanceof com.rabbitmq.client.impl.recovery.AutorecoveringConnection c) {
      c.excludeQueueFromRecovery(queue.name(), false);
    }
  }

  private static void bind(Channel channel, Topology.Binding binding) throws IOException {
    if (binding.toExchange()) {
      channel.exchangeBind(binding.destination(), binding.source(), binding.routingKey());
    } else {
      channel.queueBind(binding.destination(), binding.source(), binding.routingKey());
    }
  }

  private synchronized Channel topologyChannel() throws IOException {
    if (topologyChannel == null || !topologyChannel.isOpen()) {
      topologyChannel = consuming.createChannel();
    }
    return topologyChannel;
  }

  private static boolean isPreconditionFailed(IOException e) {
    return e.getCause() instanceof ShutdownSignalException s
        && s.getReason() instanceof AMQP.Channel.Close close
        && close.getReplyCode() == AMQP.PRECONDITION_FAILED;
  }

  @Override
  public CompletableFuture<Void> publish(String exchange, String routingKey, Message message) {
    Publisher to =
        lanes
            .laneOf(exchange, routingKey)
            .map(lane -> laned.computeIfAbsent(lane, l -> new Publisher()))
            .orElse(publisher);
    return to.publish(exchange, routingKey, message);
  }

  private void expireOverdue() {
    publishers().forEach(Publisher::expireOverdue);
  }

  /** The main publisher and every lane's. */
  private java.util.stream.Stream<Publisher> publishers() {
    return java.util.stream.Stream.concat(
        java.util.stream.Stream.of(publisher), laned.values().stream());
  }

  @Override
  public Subscription consume(String queue, ConsumeOptions options, Consumer<Delivery> handler) {
    Object offset = options.arguments().get("x-stream-offset");
    if (offset != null && options.arguments().size() == 1) {
      java.util.Optional<Subscription> overStreamProtocol =
          streams.consume(queue, offset, options.prefetch(), handler);
      if (overStreamProtocol.isPresent()) {
        return overStreamProtocol.get();
      }
    }
    try {
      Channel channel = consuming.createChannel();
      channel.basicQos(options.prefetch());
      String tag =
          channel.basicConsume(
              queue,
              false,
              "",
              false,
              false,
              options.arguments(),
              new Dispatch(
                  channel,
                  queue,
                  handler,
                  // A stream read over AMQP (where the stream protocol is not there) is
                  // acknowledged one by one, as before: each ack is credit for the next message
                  // there, and that path is neither hot nor measured with multiple acks.
                  options.arguments().containsKey("x-stream-offset")
                      ? Settlements.oneByOne(channel)
                      : new ChannelAcks(channel, queue, SWEEPER, acksWaiting)));
      log.info("consuming queue={} prefetch={}", queue, options.prefetch());
      return () -> {
        try {
          if (channel.isOpen()) {
            channel.basicCancel(tag);
          }
        } catch (IOException | AlreadyClosedException e) {
          log.debug("cancel failed queue={} error={}", queue, e.toString());
        }
      };
    } catch (IOException | ShutdownSignalException e) {
      throw new BrokerException("cannot consume queue '" + queue + "': " + rootMessage(e), e);
    }
  }

  /** The channel {@link #get} reads on; its deliveries are settled on it too. */
  private Channel getChannel;

  @Override
  public java.util.Optional<Delivery> get(String queue) {
    Channel channel = getChannel("read", queue);
    com.rabbitmq.client.GetResponse response;
    // Settling a delivery locks the channel as well: a get never interleaves with an ack.
    synchronized (channel) {
      try {
        response = channel.basicGet(queue, false);
      } catch (IOException | ShutdownSignalException e) {
        if (isNotFound(e)) {
          return java.util.Optional.empty(); // the channel is closed; the next get opens another
        }
        throw new BrokerException("cannot read queue '" + queue + "': " + rootMessage(e), e);
      }
    }
    if (response == null) {
      return java.util.Optional.empty();
    }
    Message message = message(response.getBody(), response.getProps());
    return java.util.Optional.of(
        new RabbitDelivery(
            channel,
            response.getEnvelope().getDeliveryTag(),
            queue,
            message,
            response.getEnvelope().isRedeliver() ? 1 : 0,
            new java.util.concurrent.atomic.AtomicBoolean(),
            Settlements.oneByOne(channel)));
  }

  @Override
  public java.util.Optional<QueueCounts> inspect(String queue) {
    Channel channel = getChannel("inspect", queue);
    synchronized (channel) {
      try {
        AMQP.Queue.DeclareOk ok = channel.queueDeclarePassive(queue);
        return java.util.Optional.of(new QueueCounts(ok.getMessageCount(), ok.getConsumerCount()));
      } catch (IOException | ShutdownSignalException e) {
        if (isNotFound(e)) {
          return java.util.Optional.empty(); // the channel is closed; the next call opens another
        }
        throw new BrokerException("cannot inspect queue '" + queue + "': " + rootMessage(e), e);
      }
    }
  }

  /** The open channel {@link #get} and {@link #inspect} use, opened anew after it closed. */
  private synchronized Channel getChannel(String doing, String queue) {
    try {
      if (getChannel == null || !getChannel.isOpen()) {
        getChannel = consuming.createChannel();
      }
      return getChannel;
    } catch (IOException | ShutdownSignalException e) {
      throw new BrokerException("cannot " + doing + " queue '" + queue + "': " + rootMessage(e), e);
    }
  }

  /** A received message as Lovage's {@link Message}: its body, headers and properties. */
  private static Message message(byte[] body, AMQP.BasicProperties properties) {
    return new Message(
        body,
        normalize(properties.getHeaders()),
        properties.getContentType(),
        properties.getContentEncoding(),
        properties.getCorrelationId(),
        properties.getReplyTo(),
        properties.getPriority(),
        Integer.valueOf(2).equals(properties.getDeliveryMode()));
  }

  private static boolean isNotFound(Exception e) {
    Throwable t = e instanceof ShutdownSignalException ? e : e.getCause();
    return t instanceof ShutdownSignalException s
        && s.getReason() instanceof AMQP.Channel.Close close
        && close.getReplyCode() == AMQP.NOT_FOUND;
  }

  @Override
  public String version() {
    return String.valueOf(publishing.getServerProperties().get("version"));
  }

  @Override
  public java.util.Optional<String> connectionProblem() {
    return isConnected()
        ? java.util.Optional.empty()
        : java.util.Optional.ofNullable(problems.last.get())
            .or(() -> java.util.Optional.of("the connection to RabbitMQ is down, reconnecting"));
  }

  @Override
  public boolean isConnected() {
    return publishing.isOpen() && consuming.isOpen();
  }

  @Override
  public void close() {
    sweeping.cancel(false);
    ChannelAcks.sendAll(acksWaiting);
    publishers().forEach(p -> p.failAll(PublishException.Reason.CONNECTION_LOST, "broker closed"));
    streams.close();
    for (Connection connection : List.of(consuming, publishing)) {
      try {
        if (connection.isOpen()) {
          connection.close(5_000);
        }
      } catch (IOException | ShutdownSignalException e) {
        // Also a close-ok that did not come within the timeout: the socket is closed anyway.
        log.debug("close failed error={}", e.toString());
      }
    }
  }

  /**
   * How often overdue publishes are looked for: a tenth of the timeout, between 10 and 100 ms, so a
   * publish fails at most that late.
   */
  static java.time.Duration sweepEvery(java.time.Duration publishTimeout) {
    long tenth = publishTimeout.toMillis() / 10;
    return java.time.Duration.ofMillis(Math.clamp(tenth, 10, 100));
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  /** Hands each delivery of one consumer channel to the handler. */
  private static final class Dispatch extends DefaultConsumer {
    private final String queue;
    private final Consumer<Delivery> handler;
    private final Settlements settlements;

    Dispatch(Channel channel, String queue, Consumer<Delivery> handler, Settlements settlements) {
      super(channel);
      this.queue = queue;
      this.handler = handler;
      this.settlements = settlements;
    }

    @Override
    public void handleDelivery(
        String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body) {
      Message message = message(body, properties);
      Map<String, Object> headers = message.headers();
      long count =
          headers.get("x-delivery-count") instanceof Number n
              ? n.longValue()
              : envelope.isRedeliver() ? 1 : 0;
      settlements.delivered(envelope.getDeliveryTag());
      handler.accept(
          new RabbitDelivery(
              getChannel(),
              envelope.getDeliveryTag(),
              queue,
              message,
              count,
              new java.util.concurrent.atomic.AtomicBoolean(),
              settlements));
    }

    @Override
    public void handleCancel(String consumerTag) {
      log.warn("consumer cancelled by the broker queue={}", queue);
    }
  }

  private record RabbitDelivery(
      Channel channel,
      long tag,
      String queue,
      Message message,
      long deliveryCount,
      java.util.concurrent.atomic.AtomicBoolean settled,
      Settlements settlements)
      implements Delivery {

    /**
     * Unsettled, and delivered on the channel as it is now: after a reconnect the client gives the
     * recovered channel a delivery-tag offset (the highest tag seen before), so a delivery of the
     * lost channel has a tag at or below it, however late its handler ran. (A counter bumped by a
     * recovery listener was not enough: the client recovers consumers, and they receive, before it
     * calls the listener.)
     */
    @Override
    public boolean held() {
      return !settled.get() && channel.isOpen() && tag > tagOffset(channel);
    }

    private static long tagOffset(Channel channel) {
      return channel instanceof AutorecoveringChannel recovering
              && recovering.getDelegate() instanceof RecoveryAwareChannelN current
          ? current.getActiveDeliveryTagOffset()
          : 0;
    }

    @Override
    public void ack() {
      settle("ack", () -> settlements.ack(tag));
    }

    @Override
    public void reject() {
      settle("reject", () -> settlements.reject(tag, false));
    }

    @Override
    public void requeue() {
      settle("requeue", () -> settlements.reject(tag, true));
    }

    private void settle(String what, IoAction action) {
      settled.set(true);
      try {
        action.run();
      } catch (IOException | AlreadyClosedException e) {
        Settlements.notSent(log, what, queue, e);
      }
    }
  }

  @FunctionalInterface
  private interface IoAction {
    void run() throws IOException;
  }

  static Map<String, Object> normalize(Map<String, Object> headers) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (headers != null) {
      headers.forEach((k, v) -> out.put(k, normalizeValue(v)));
    }
    return out;
  }

  private static Object normalizeValue(Object value) {
    if (value instanceof LongString s) {
      return s.toString();
    }
    if (value instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      list.forEach(item -> out.add(normalizeValue(item)));
      return out;
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(String.valueOf(k), normalizeValue(v)));
      return out;
    }
    return value;
  }

  /**
   * Set while the publishing connection's own thread runs Lovage's code (a confirm settling a
   * publish runs what waited on it): that thread must not open a channel ({@link
   * Publisher#publishQueued}).
   */
  private static final ThreadLocal<Boolean> ON_CONNECTION_THREAD = new ThreadLocal<>();

  private static void onConnectionThread(Runnable callback) {
    ON_CONNECTION_THREAD.set(Boolean.TRUE);
    try {
      callback.run();
    } finally {
      ON_CONNECTION_THREAD.remove();
    }
  }

  /**
   * Publishes on one confirm-mode channel. Each publish carries a message id that names its
   * sequence number, so a basic.return (which arrives before the confirm) marks the right publish.
   */
  private final class Publisher {
    private final ConcurrentNavigableMap<Long, Pending> pending = new ConcurrentSkipListMap<>();
    private final java.util.concurrent.locks.ReentrantLock lock =
        new java.util.concurrent.locks.ReentrantLock();
    private Channel channel;
    private volatile long generation;

    /** Whether RabbitMQ blocks the publishing connection (memory or disk alarm). */
    private volatile boolean blocked;

    Publisher() {
      publishing.addBlockedListener(reason -> blocked = true, () -> blocked = false);
    }

    private final class Pending {
      final CompletableFuture<Void> future = new CompletableFuture<>();
      final String exchange;
      final String routingKey;
      final Message message;
      final long deadline;
      volatile String returned;

      Pending(String exchange, String routingKey, Message message, long deadline) {
        this.exchange = exchange;
        this.routingKey = routingKey;
        this.message = message;
        this.deadline = deadline;
      }

      /** Only when it failed: most publishes never need their target named. */
      String target() {
        return "exchange '" + exchange + "' routing key '" + routingKey + "'";
      }
    }

    /** Publishes queued by callers and not written yet, oldest first. */
    private final ConcurrentLinkedQueue<Pending> queued = new ConcurrentLinkedQueue<>();

    CompletableFuture<Void> publish(String exchange, String routingKey, Message m) {
      Pending p =
          new Pending(
              exchange, routingKey, m, System.nanoTime() + settings.publishTimeout().toNanos());
      queued.add(p);
      publishQueued();
      return p.future;
    }

    /**
     * Writes what callers queued, each caller's and the others', and sends them to the socket
     * together. Whoever takes the lock does it; a caller that finds it taken leaves its message to
     * the holder, which looks at the queue again after letting go (and the lock parks, so the many
     * virtual threads of REST requests never spin on it). Gathered, a burst of publishes is one
     * write for the client and one read for RabbitMQ instead of one each.
     */
    private void publishQueued() {
      while (!queued.isEmpty() && lock.tryLock()) {
        GatheringSockets.Gathering gathered = null;
        if (ON_CONNECTION_THREAD.get() != null && (channel == null || !channel.isOpen())) {
          // A confirm's callback publishing again (a task's sent event once the task is
          // confirmed): opening a channel waits for RabbitMQ's answer, which only this thread
          // reads. Another thread opens it and writes.
          lock.unlock();
          Thread.ofVirtual().start(this::publishQueued);
          return;
        }
        try {
          for (Pending p = queued.poll(); p != null; p = queued.poll()) {
            GatheringSockets.Gathering written = write(p);
            if (written != null) {
              gathered = written;
            }
          }
        } finally {
          if (gathered != null) {
            send(gathered);
          }
          lock.unlock();
        }
      }
    }

    /**
     * With the lock held: writes one publish, its flush kept for the next gathered send. Only the
     * publish itself is gathered: opening a channel waits for RabbitMQ's answer, so its frames go
     * out at once (and with them what was gathered before).
     *
     * @return where the publish was gathered, to send; null over TLS or when it failed
     */
    private GatheringSockets.Gathering write(Pending p) {
      try {
        Channel ch = openChannel();
        long seq = ch.getNextPublishSeqNo();
        pending.put(seq, p);
        GatheringSockets.Gathering gathered = gathering == null ? null : gathering.gather();
        try {
          ch.basicPublish(
              p.exchange,
              p.routingKey,
              true,
              properties(p.message, generation + ":" + seq),
              p.message.body());
        } finally {
          if (gathered != null) {
            gathered.pause();
          }
        }
        return gathered;
      } catch (IOException | AlreadyClosedException e) {
        failAll(PublishException.Reason.CONNECTION_LOST, "channel closed: " + rootMessage(e));
        p.future.completeExceptionally(
            new PublishException(
                PublishException.Reason.CONNECTION_LOST,
                "cannot publish to " + p.target() + ": " + rootMessage(e),
                e));
      } catch (RuntimeException e) {
        pending.values().remove(p);
        p.future.completeExceptionally(e);
      }
      return null;
    }

    private static void send(GatheringSockets.Gathering gathered) {
      try {
        gathered.send();
      } catch (IOException e) {
        // The connection is lost: its shutdown fails what it did not confirm.
        log.debug("sending gathered publishes failed error={}", e.toString());
      }
    }

    /**
     * Fails the publishes whose confirm is overdue, then replaces their channel. Run every {@link
     * RabbitBroker#sweepEvery}: one periodic task per broker rather than a timer per publish, which
     * cost every publish a timer's scheduling and cancelling and two more futures. Sequence numbers
     * grow with time on a channel, so the oldest come first and the scan stops at the first one in
     * time (a replaced channel's publishes were failed when it was).
     */
    void expireOverdue() {
      long now = System.nanoTime();
      // Not written yet: a publisher blocked in a socket write (RabbitMQ reads nothing during a
      // memory alarm) holds the rest in the queue.
      for (Pending p : queued) {
        if (now - p.deadline < 0) {
          break;
        }
        if (queued.remove(p)) {
          p.future.completeExceptionally(overdue(p));
        }
      }
      boolean expired = false;
      for (Map.Entry<Long, Pending> entry : pending.entrySet()) {
        Pending p = entry.getValue();
        if (now - p.deadline < 0) {
          break;
        }
        if (pending.remove(entry.getKey(), p)) {
          expired = true;
          p.future.completeExceptionally(overdue(p));
        }
      }
      if (expired) {
        // Off the one sweeping thread: replacing waits for the lock that a publish holds.
        long gen = generation;
        Thread.ofVirtual().start(() -> replaceChannelAfterTimeout(gen));
      }
    }

    private PublishException overdue(Pending p) {
      return new PublishException(
          PublishException.Reason.TIMEOUT,
          "broker did not confirm the message to "
              + p.target()
              + " within "
              + settings.publishTimeout().toMillis()
              + " ms");
    }

    /**
     * After a confirm did not come in time on a connection that RabbitMQ does not block (a memory
     * or disk alarm explains a late confirm, and a new channel could not open then), the channel of
     * that publish is replaced: the next publish opens a new one, and what is still unconfirmed on
     * the old one fails now, to be retried or answered 503. Measured on a RabbitMQ 3.10 cluster
     * whose node leading the event stream was killed: the channel that had waited got confirms for
     * messages it published next that never reached the stream (RabbitMQ's stream resend after a
     * leader change, fixed in 4.0, rabbitmq-server#12236). A new channel writes as a new publisher.
     * The lanes of {@link StreamLanes} keep that resend right when the new leader comes sooner.
     */
    private void replaceChannelAfterTimeout(long gen) {
      if (blocked) {
        return;
      }
      Channel old;
      lock.lock();
      try {
        if (gen != generation || channel == null) {
          return;
        }
        old = channel;
        channel = null;
        failAll(PublishException.Reason.TIMEOUT, "a confirm on the channel did not come in time");
      } finally {
        lock.unlock();
        publishQueued();
      }
      log.warn("publish channel replaced after a confirm timeout");
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  old.abort();
                } catch (IOException | RuntimeException e) {
                  log.debug("closing the replaced channel failed error={}", e.toString());
                }
              });
    }

    private Channel openChannel() throws IOException {
      if (channel != null && channel.isOpen()) {
        return channel;
      }
      // A channel closed by a channel error (e.g. 404 exchange) is not recovered by the client.
      Channel ch = publishing.createChannel();
      ch.confirmSelect();
      long gen = ++generation;
      ch.addReturnListener(
          r -> {
            Pending p = byMessageId(r.getProperties().getMessageId(), gen);
            if (p != null) {
              p.returned = r.getReplyCode() + " " + r.getReplyText();
            }
          });
      // A replaced channel's late confirms must not settle the new channel's publishes: both count
      // sequence numbers from 1.
      ch.addConfirmListener(
          (seq, multiple) -> {
            if (gen == generation) {
              onConnectionThread(() -> settle(seq, multiple, true));
            }
          },
          (seq, multiple) -> {
            if (gen == generation) {
              onConnectionThread(() -> settle(seq, multiple, false));
            }
          });
      ch.addShutdownListener(
          cause -> {
            if (!cause.isInitiatedByApplication() && gen == generation) {
              onConnectionThread(
                  () ->
                      failAll(
                          PublishException.Reason.CONNECTION_LOST,
                          "channel closed: " + cause.getMessage()));
            }
          });
      channel = ch;
      return ch;
    }

    private Pending byMessageId(String messageId, long gen) {
      if (messageId == null || !messageId.startsWith(gen + ":")) {
        return null;
      }
      return pending.get(Long.parseLong(messageId.substring(messageId.indexOf(':') + 1)));
    }

    private void settle(long seq, boolean multiple, boolean acked) {
      Map<Long, Pending> done = multiple ? pending.headMap(seq, true) : subMap(seq);
      for (Map.Entry<Long, Pending> entry : new ArrayList<>(done.entrySet())) {
        Pending p = entry.getValue();
        pending.remove(entry.getKey(), p);
        if (!acked) {
          p.future.completeExceptionally(
              new PublishException(
                  PublishException.Reason.NACKED, "broker refused the message to " + p.target()));
        } else if (p.returned != null) {
          p.future.completeExceptionally(
              new PublishException(
                  PublishException.Reason.UNROUTABLE,
                  "no queue is bound for " + p.target() + " (" + p.returned + ")"));
        } else {
          p.future.complete(null);
        }
      }
    }

    private Map<Long, Pending> subMap(long seq) {
      Pending p = pending.get(seq);
      return p == null ? Map.of() : Map.of(seq, p);
    }

    /** Fails what is unconfirmed; what is queued and not written yet is still written. */
    void failAll(PublishException.Reason reason, String why) {
      for (Long seq : new ArrayList<>(pending.keySet())) {
        Pending p = pending.remove(seq);
        if (p != null) {
          p.future.completeExceptionally(
              new PublishException(reason, "message to " + p.target() + " not confirmed: " + why));
        }
      }
    }

    private AMQP.BasicProperties properties(Message m, String messageId) {
      return new AMQP.BasicProperties.Builder()
          .contentType(m.contentType())
          .contentEncoding(m.contentEncoding())
          .headers(m.headers())
          .deliveryMode(m.persistent() ? 2 : 1)
          .priority(m.priority())
          .correlationId(m.correlationId())
          .replyTo(m.replyTo())
          .messageId(messageId)
          .build();
    }
  }
}
