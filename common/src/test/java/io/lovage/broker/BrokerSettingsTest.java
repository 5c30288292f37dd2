package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BrokerSettingsTest {
  @TempDir Path dir;

  @Test
  void aPasswordFileGivesTheUriItsPasswordWithoutTheFinalLineBreakAndEscaped() throws Exception {
    Path file = Files.writeString(dir.resolve("producer"), "s3cr@t:/ x\n");
    BrokerSettings settings =
        BrokerSettings.of("amqp://lovage-producer@rabbit:5672/%2F", "p")
            .withPasswordFile(file.toString());
    assertEquals("amqp://lovage-producer:s3cr%40t%3A%2F%20x@rabbit:5672/%2F", settings.uri());
    java.net.URI parsed = java.net.URI.create(settings.uri());
    assertEquals("lovage-producer:s3cr@t:/ x", parsed.getUserInfo());
  }

  @Test
  void aPasswordFileReplacesThePasswordOfTheUriAndKeepsItsQuery() throws Exception {
    Path file = Files.writeString(dir.resolve("worker"), "new");
    assertEquals(
        "amqps://w:new@rabbit/prod?heartbeat=10",
        BrokerSettings.of("amqps://w:old@rabbit/prod?heartbeat=10", "w")
            .withPasswordFile(file.toString())
            .uri());
  }

  @Test
  void noPasswordFileKeepsTheSettingsAndAnUnreadableOneIsNamedInTheError() {
    BrokerSettings settings = BrokerSettings.of("amqp://u:p@rabbit", "x");
    assertSame(settings, settings.withPasswordFile(" "));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> settings.withPasswordFile(dir.resolve("missing").toString()));
    assertTrue(e.getMessage().startsWith("RABBITMQ_PASSWORD_FILE '"), e.getMessage());
  }

  @Test
  void theTopologyIsDeclaredUnlessVerifyIsAskedForAndAnythingElseIsRefused() {
    BrokerSettings settings = BrokerSettings.of(null, "x");
    assertEquals(BrokerSettings.TopologyMode.DECLARE, settings.topology());
    assertEquals(BrokerSettings.TopologyMode.DECLARE, settings.withTopology("").topology());
    assertEquals(BrokerSettings.TopologyMode.VERIFY, settings.withTopology(" Verify ").topology());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> settings.withTopology("passive"));
    assertEquals("LOVAGE_TOPOLOGY 'passive' is neither declare nor verify", e.getMessage());
  }

  @Test
  void eachWithMethodChangesItsOwnSettingAndKeepsTheOthers() {
    BrokerSettings settings =
        BrokerSettings.of("amqp://rabbit", "x")
            .withTopology("verify")
            .withHeartbeat(Duration.ofSeconds(3))
            .withPublishTimeout(Duration.ofSeconds(4))
            .withConnectTimeout(Duration.ofSeconds(5))
            .withAddresses("a:1,b")
            .withStreams("5560", null);
    assertEquals(BrokerSettings.TopologyMode.VERIFY, settings.topology());
    assertEquals(Duration.ofSeconds(3), settings.heartbeat());
    assertEquals(Duration.ofSeconds(4), settings.publishTimeout());
    assertEquals(Duration.ofSeconds(5), settings.connectTimeout());
    assertEquals(java.util.List.of("a:1", "b"), settings.addresses());
    assertEquals(5560, settings.streamPort());
    assertEquals("amqp://rabbit", settings.uri());
  }
}
