package io.lovage.producer;

import io.lovage.broker.Broker;
import io.lovage.broker.InMemoryBroker;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Replaces;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;

/**
 * For tests that start the producer without RabbitMQ: {@code lovage.test.in-memory-broker=true}.
 */
@Factory
@Requires(property = InMemoryBrokerFactory.PROPERTY, value = "true")
final class InMemoryBrokerFactory {
  static final String PROPERTY = "lovage.test.in-memory-broker";

  @Singleton
  @Replaces(Broker.class)
  @Bean(preDestroy = "close")
  Broker broker() {
    return new InMemoryBroker();
  }
}
