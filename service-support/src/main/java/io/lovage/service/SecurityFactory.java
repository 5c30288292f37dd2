package io.lovage.service;

import io.lovage.security.MessageSecurity;
import io.lovage.security.TlsSettings;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signed task messages, for the worker and the producer alike, named after Celery's settings:
 * {@code LOVAGE_SECURITY_KEY} and {@code LOVAGE_SECURITY_CERTIFICATE} (PEM files) sign what is
 * sent, {@code LOVAGE_SECURITY_CERT_STORE} (a directory or glob of PEM certificates) makes a worker
 * run signed messages only, {@code LOVAGE_SECURITY_WIRE} ({@code 5.2} or {@code 5.5}) is the layout
 * written, {@code LOVAGE_SECURITY_DIGEST} Celery's {@code security_digest}. A file that cannot be
 * read stops the service at start, naming the setting.
 */
@Factory
final class SecurityFactory {
  private static final Logger log = LoggerFactory.getLogger(SecurityFactory.class);

  @Singleton
  MessageSecurity messageSecurity(
      @Value("${lovage.security.key:}") String key,
      @Value("${lovage.security.certificate:}") String certificate,
      @Value("${lovage.security.cert.store:}") String certStore,
      @Value("${lovage.security.wire:}") String wire,
      @Value("${lovage.security.digest:}") String digest) {
    MessageSecurity security =
        MessageSecurity.fromSettings(key, certificate, certStore, wire, digest);
    log.info("task messages: {}", security.describe());
    return security;
  }

  /**
   * TLS to RabbitMQ for {@code amqps://} URIs (AMQP, streams, management API): {@code
   * LOVAGE_TLS_CA_FILE}, {@code LOVAGE_TLS_CERT_FILE}, {@code LOVAGE_TLS_KEY_FILE}, {@code
   * LOVAGE_TLS_INSECURE}.
   */
  @Singleton
  TlsSettings tls(
      @Value("${lovage.tls.ca.file:}") String caFile,
      @Value("${lovage.tls.cert.file:}") String certFile,
      @Value("${lovage.tls.key.file:}") String keyFile,
      @Value("${lovage.tls.insecure:}") String insecure) {
    return TlsSettings.of(caFile, certFile, keyFile, insecure);
  }
}
