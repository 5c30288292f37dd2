package io.lovage.service;

import io.lovage.broker.BrokerSettings;

/**
 * The broker settings both services read: {@code RABBITMQ_URI}, {@code RABBITMQ_ADDRESSES} (the
 * nodes of a cluster, see {@link BrokerSettings#withAddresses}), {@code LOVAGE_PUBLISH_TIMEOUT}
 * (how long a publish waits for the broker's confirm: a REST submit answers 503 after it) and
 * {@code LOVAGE_HEARTBEAT} (how soon a dead connection is noticed).
 */
public final class ServiceBroker {
  private ServiceBroker() {}

  public static BrokerSettings settings(
      String uri, String addresses, String clientName, String publishTimeout, String heartbeat) {
    BrokerSettings settings = BrokerSettings.of(uri, clientName).withAddresses(addresses);
    return settings
        .withPublishTimeout(
            DurationSetting.parse(
                "LOVAGE_PUBLISH_TIMEOUT", publishTimeout, settings.publishTimeout()))
        .withHeartbeat(DurationSetting.parse("LOVAGE_HEARTBEAT", heartbeat, settings.heartbeat()));
  }
}
