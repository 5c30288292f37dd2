package io.lovage.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.testing.TestCertificates;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.util.Optional;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsSettingsTest {
  @TempDir Path dir;

  @Test
  void blankSettingsAreTheJvmsTrustStoreWithHostNamesChecked() {
    TlsSettings tls = TlsSettings.of("", null, " ", "");

    assertEquals(TlsSettings.DEFAULT, tls);
    assertFalse(tls.isSet());
    assertTrue(tls.describe().contains("the JVM's trust store and its host name"));
  }

  @Test
  void aClientCertificateWithoutItsKeyIsRefusedNamingBothSettings() {
    TestCertificates.Signer client = TestCertificates.make(dir, "client");

    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> TlsSettings.of("", client.certificate().toString(), "", ""));
    assertTrue(refused.getMessage().contains("LOVAGE_TLS_CERT_FILE and LOVAGE_TLS_KEY_FILE"));
  }

  @Test
  void aFileThatCannotBeReadIsRefusedAtStart() {
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> TlsSettings.of(dir.resolve("missing.pem").toString(), "", "", ""));
    assertTrue(refused.getMessage().contains("missing.pem"));
  }

  @Test
  void insecureIsTrueOrFalseAndSaysSoLoudly() {
    assertThrows(IllegalArgumentException.class, () -> TlsSettings.of("", "", "", "yes"));

    TlsSettings insecure = TlsSettings.of("", "", "", "TRUE");
    assertTrue(insecure.insecure());
    assertTrue(insecure.describe().startsWith("INSECURE"));
  }

  @Test
  void aCaFileAndAClientCertificateMakeAContext() {
    TestCertificates.Signer ca = TestCertificates.make(dir, "ca");
    TestCertificates.Signer client = TestCertificates.signed(dir, "client", ca, "DNS:client");

    TlsSettings tls =
        TlsSettings.of(
            ca.certificate().toString(),
            client.certificate().toString(),
            client.key().toString(),
            "");

    assertTrue(tls.keyManagers().isPresent());
    assertEquals("TLS", tls.sslContext().getProtocol());
    assertTrue(tls.describe().contains("client certificate"));
  }

  @Test
  void aHandshakeFailureIsExplainedByWhatToChange() {
    Exception untrusted =
        new RuntimeException(
            new SSLHandshakeException("PKIX path building failed: unable to find valid path"));
    SSLHandshakeException wrongHost =
        new SSLHandshakeException("No subject alternative DNS name matching rabbit found.");

    assertTrue(
        TlsSettings.explain(untrusted, "rabbit").orElseThrow().contains("set LOVAGE_TLS_CA_FILE"));
    assertTrue(
        TlsSettings.explain(wrongHost, "rabbit")
            .orElseThrow()
            .contains("not for the host name 'rabbit'"));
    assertEquals(
        Optional.empty(), TlsSettings.explain(new CertificateException("not TLS"), "rabbit"));
  }
}
