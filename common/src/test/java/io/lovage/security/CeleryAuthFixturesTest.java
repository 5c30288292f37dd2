package io.lovage.security;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.broker.Message;
import io.lovage.protocol.Json;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * Payloads Celery's own {@code auth} serializer signed, 5.2 and 5.5 (made by
 * resources/celery/capture_signed_fixtures.py), read and verified here.
 */
class CeleryAuthFixturesTest {

  @ParameterizedTest
  @ValueSource(strings = {"payload_5_2", "payload_5_5"})
  void whatCelerySignsVerifiesAndDecodesToItsTask(String payload) throws Exception {
    JsonNode fixture;
    try (InputStream in = getClass().getResourceAsStream("/celery/celery-auth-fixtures.json")) {
      fixture = Json.MAPPER.readTree(in);
    }
    X509Certificate certificate =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(
                    new ByteArrayInputStream(
                        fixture.get("certificate").asString().getBytes(StandardCharsets.US_ASCII)));
    CertStore store = new CertStore(List.of(certificate), "sha256", Clock.systemUTC());
    Message signed =
        new Message(
            fixture.get(payload).asString().getBytes(StandardCharsets.US_ASCII),
            Map.of("task", "demo.add", "id", "0c1e5a1e-0000-4000-8000-000000000001"),
            "application/data",
            "utf-8",
            null,
            null,
            null,
            true);

    assertEquals(fixture.get("signer").asString(), SignerId.of(certificate));
    Message plain = store.verify(signed);
    assertEquals(fixture.get("body").asString(), new String(plain.body(), StandardCharsets.UTF_8));
    TaskMessage task = TaskMessageCodec.decode(plain);
    assertEquals("[2,3]", task.args().toString());
  }
}
