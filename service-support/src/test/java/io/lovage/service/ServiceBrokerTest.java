package io.lovage.service;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.broker.BrokerSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServiceBrokerTest {

  @Test
  void publishTimeoutAndHeartbeatComeFromTheirSettings() {
    BrokerSettings settings = ServiceBroker.settings("", "producer", "2s", "30");

    assertEquals(Duration.ofSeconds(2), settings.publishTimeout());
    assertEquals(Duration.ofSeconds(30), settings.heartbeat());
    assertEquals(BrokerSettings.DEFAULT_URI, settings.uri());
  }

  @Test
  void unsetSettingsKeepTheDefaults() {
    BrokerSettings settings = ServiceBroker.settings("amqp://rabbit", "worker", "", "");

    assertEquals(BrokerSettings.DEFAULT_PUBLISH_TIMEOUT, settings.publishTimeout());
    assertEquals(BrokerSettings.DEFAULT_HEARTBEAT, settings.heartbeat());
    assertEquals("amqp://rabbit", settings.uri());
  }
}
