package io.lovage.service;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.broker.BrokerSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServiceBrokerTest {

  @Test
  void publishTimeoutAndHeartbeatComeFromTheirSettings() {
    BrokerSettings settings = ServiceBroker.settings("", "", "producer", "2s", "30");

    assertEquals(Duration.ofSeconds(2), settings.publishTimeout());
    assertEquals(Duration.ofSeconds(30), settings.heartbeat());
    assertEquals(BrokerSettings.DEFAULT_URI, settings.uri());
  }

  @Test
  void unsetSettingsKeepTheDefaults() {
    BrokerSettings settings = ServiceBroker.settings("amqp://rabbit", "", "worker", "", "");

    assertEquals(BrokerSettings.DEFAULT_PUBLISH_TIMEOUT, settings.publishTimeout());
    assertEquals(BrokerSettings.DEFAULT_HEARTBEAT, settings.heartbeat());
    assertEquals("amqp://rabbit", settings.uri());
    assertEquals(java.util.List.of(), settings.addresses(), "the URI's node");
  }

  @Test
  void theNodesOfAClusterComeFromRabbitmqAddressesAndABadOneIsNamed() {
    BrokerSettings settings =
        ServiceBroker.settings("amqp://u:p@rabbit/prod", "rabbit1:5672, rabbit2,", "w", "", "");

    assertEquals(java.util.List.of("rabbit1:5672", "rabbit2"), settings.addresses());
    IllegalArgumentException bad =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> ServiceBroker.settings("", "rabbit1:5672/vhost", "w", "", ""));
    org.junit.jupiter.api.Assertions.assertTrue(
        bad.getMessage().contains("RABBITMQ_ADDRESSES entry 'rabbit1:5672/vhost'"),
        bad.getMessage());
  }
}
