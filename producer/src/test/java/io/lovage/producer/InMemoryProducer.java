package io.lovage.producer;

import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A producer on a free port over the in-memory broker, for one test class:
 * {@code @RegisterExtension static final InMemoryProducer producer = new InMemoryProducer();}
 * starts it before the class's tests and closes it after them.
 */
final class InMemoryProducer implements BeforeAllCallback, AfterAllCallback {
  private final Map<String, Object> settings;
  private EmbeddedServer server;

  InMemoryProducer() {
    this(Map.of());
  }

  /**
   * @param more settings beside the free port and the in-memory broker, e.g. an API key
   */
  InMemoryProducer(Map<String, Object> more) {
    Map<String, Object> all = new HashMap<>(more);
    all.put("micronaut.server.port", -1);
    all.put(InMemoryBrokerFactory.PROPERTY, "true");
    this.settings = Map.copyOf(all);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    server = ApplicationContext.run(EmbeddedServer.class, settings);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    server.close();
  }

  EmbeddedServer server() {
    return server;
  }

  URI uri(String path) {
    return URI.create("http://localhost:" + server.getPort() + path);
  }
}
