package io.lovage.broker;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Which streams a publish reaches, from the topology this client declared: publishes that reach the
 * same streams go on a channel of their own (a lane), every other publish on the main one.
 *
 * <p>Why: RabbitMQ 3.10 resends what a channel had not had confirmed when a stream's leader changed
 * numbered by the channel's publish count instead of its count of that stream's messages
 * (rabbitmq-server#12236, fixed in 4.0). When the channel had published anything else before (a
 * task to a queue, a worker heartbeat no stream takes), that number is ahead, and the new leader
 * then drops the channel's next messages to the stream as duplicates, yet confirms them: fault
 * scenario 14 lost 25 task outcomes that way, a worker's 25 heartbeats. On a channel whose every
 * publish reaches the same streams, both counts are equal and the resend is right.
 *
 * <p>Bindings made by others (a Celery monitor's queue on {@code celeryev}) are not known here;
 * they do not matter unless they bind another stream.
 */
final class StreamLanes {
  private final Set<String> streams = ConcurrentHashMap.newKeySet();
  private final List<Topology.Binding> toStreams = new CopyOnWriteArrayList<>();
  private final Map<String, String> exchangeTypes = new ConcurrentHashMap<>();
  private final Map<String, Optional<String>> lanes = new ConcurrentHashMap<>();

  /** Learns the streams of a topology and the bindings that lead to them. */
  void learn(Topology topology) {
    boolean changed = false;
    for (Topology.Exchange exchange : topology.exchanges()) {
      changed |= !exchange.type().equals(exchangeTypes.put(exchange.name(), exchange.type()));
    }
    for (Topology.Queue queue : topology.queues()) {
      if ("stream".equals(queue.arguments().get("x-queue-type"))) {
        changed |= streams.add(queue.name());
      }
    }
    for (Topology.Binding binding : topology.bindings()) {
      if (!binding.toExchange()
          && streams.contains(binding.destination())
          && !toStreams.contains(binding)) {
        toStreams.add(binding);
        changed = true;
      }
    }
    if (changed) {
      lanes.clear();
    }
  }

  /**
   * The lane of a publish: the names of the streams it reaches, sorted and joined, or empty when it
   * reaches none (the main channel).
   */
  Optional<String> laneOf(String exchange, String routingKey) {
    return lanes.computeIfAbsent(exchange + '\u0000' + routingKey, k -> find(exchange, routingKey));
  }

  private Optional<String> find(String exchange, String routingKey) {
    if (exchange.isEmpty()) {
      return streams.contains(routingKey) ? Optional.of(routingKey) : Optional.empty();
    }
    Set<String> reached = new TreeSet<>();
    for (Topology.Binding binding : toStreams) {
      if (binding.source().equals(exchange)
          && routes(exchangeTypes.get(exchange), binding.routingKey(), routingKey)) {
        reached.add(binding.destination());
      }
    }
    return reached.isEmpty() ? Optional.empty() : Optional.of(String.join(",", reached));
  }

  /** Whether an exchange of this type (null: not declared here, taken as topic) routes the key. */
  private static boolean routes(String type, String bindingKey, String routingKey) {
    if ("fanout".equals(type)) {
      return true;
    }
    if ("direct".equals(type)) {
      return bindingKey.equals(routingKey);
    }
    return matches(bindingKey, routingKey);
  }

  /**
   * Whether a routing key matches a binding key as a topic exchange matches them: {@code *} is one
   * word, {@code #} none or more.
   */
  static boolean matches(String pattern, String routingKey) {
    return matches(words(pattern), 0, words(routingKey), 0);
  }

  private static boolean matches(List<String> pattern, int p, List<String> key, int k) {
    if (p == pattern.size()) {
      return k == key.size();
    }
    String word = pattern.get(p);
    if (word.equals("#")) {
      for (int skip = k; skip <= key.size(); skip++) {
        if (matches(pattern, p + 1, key, skip)) {
          return true;
        }
      }
      return false;
    }
    return k < key.size()
        && (word.equals("*") || word.equals(key.get(k)))
        && matches(pattern, p + 1, key, k + 1);
  }

  private static List<String> words(String key) {
    List<String> words = new ArrayList<>();
    int start = 0;
    for (int dot = key.indexOf('.'); dot >= 0; dot = key.indexOf('.', start)) {
      words.add(key.substring(start, dot));
      start = dot + 1;
    }
    words.add(key.substring(start));
    return words;
  }
}
