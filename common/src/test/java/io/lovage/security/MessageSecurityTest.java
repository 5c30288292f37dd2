package io.lovage.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.broker.Message;
import io.lovage.protocol.MalformedMessageException;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import io.lovage.testing.TestCertificates;
import io.lovage.testing.TestCertificates.Signer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Signing and verifying task messages with keys and certificates openssl makes here. */
class MessageSecurityTest {
  @TempDir static Path dir;
  static Signer alice;
  static Signer mallory;
  static Path trusted;

  @BeforeAll
  static void keys() throws Exception {
    alice = TestCertificates.make(dir, "alice");
    mallory = TestCertificates.make(dir, "mallory");
    trusted = Files.createDirectory(dir.resolve("trusted"));
    Files.copy(alice.certificate(), trusted.resolve("alice.pem"));
  }

  static Message task() {
    return TaskMessageCodec.encode(
        TaskMessage.builder("demo.add")
            .id("6e6f7420-0000-4000-8000-000000000001")
            .args(2, 3)
            .build());
  }

  static MessageSigner signer(Signer who, WireFormat format) {
    return MessageSigner.fromPem(who.key(), who.certificate(), format);
  }

  static CertStore store() {
    return CertStore.fromPath(trusted.toString());
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void signedMessageOpensToTheSameBodyHeadersAndProperties(WireFormat format) throws Exception {
    Message plain = task();
    Message signed = signer(alice, format).sign(plain);

    assertEquals("application/data", signed.contentType());
    assertEquals("utf-8", signed.contentEncoding());
    assertEquals(plain.headers(), signed.headers());
    assertEquals(plain, store().verify(signed));
    assertEquals(TaskMessageCodec.decode(plain), TaskMessageCodec.decode(store().verify(signed)));
  }

  @Test
  void celery52LayoutCarriesTheSignerAndSignatureRaw() throws Exception {
    MessageSigner signer = signer(alice, WireFormat.CELERY_5_2);
    byte[] raw = Base64.getDecoder().decode(signer.sign(task()).body());
    byte[] prefix = (signer.signer() + "\u0000\u0001").getBytes(StandardCharsets.UTF_8);

    assertArrayEquals(prefix, Arrays.copyOf(raw, prefix.length));
    // signer, 256 signature bytes, then the content type
    String afterSignature =
        new String(
            raw, prefix.length + 256, 2 + "application/json".length(), StandardCharsets.UTF_8);
    assertEquals("\u0000\u0001application/json", afterSignature);
  }

  @Test
  void celery55LayoutCarriesTheSignerAndSignatureBase64d() throws Exception {
    MessageSigner signer = signer(alice, WireFormat.CELERY_5_5);
    String raw =
        new String(
            Base64.getDecoder().decode(signer.sign(task()).body()), StandardCharsets.ISO_8859_1);
    String[] fields = raw.split("\u0000\u0001", 5);

    assertEquals(
        signer.signer(), new String(Base64.getDecoder().decode(fields[0]), StandardCharsets.UTF_8));
    assertEquals(256, Base64.getDecoder().decode(fields[1]).length);
    assertEquals("application/json", fields[2]);
    assertEquals("utf-8", fields[3]);
  }

  @Test
  void signerIdIsIssuerValuesInOrderThenTheSerialInDecimalAsCeleryGetId() {
    String serialHex =
        TestCertificates.openssl("x509", "-in", alice.certificate().toString(), "-noout", "-serial")
            .trim()
            .substring("serial=".length());

    assertEquals(
        "DE Lovage Test alice " + new BigInteger(serialHex, 16),
        signer(alice, WireFormat.DEFAULT).signer());
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void oneFlippedByteInTheBodyFailsVerification(WireFormat format) {
    Message signed = signer(alice, format).sign(task());
    Message tampered = rewrite(signed, format, body -> body.indexOf('2'), '7');

    MalformedMessageException refused =
        assertThrows(MalformedMessageException.class, () -> store().verify(tampered));
    assertTrue(refused.getMessage().startsWith("bad signature from signer 'DE Lovage Test alice"));
  }

  @Test
  void oneFlippedByteInTheSignatureFailsVerification() {
    MessageSigner signer = signer(alice, WireFormat.CELERY_5_2);
    byte[] raw = Base64.getDecoder().decode(signer.sign(task()).body());
    int firstSignatureByte = signer.signer().length() + 2;
    raw[firstSignatureByte + 100] ^= 0x01;
    Message tampered = withBody(task(), Base64.getEncoder().encode(raw));

    MalformedMessageException refused =
        assertThrows(MalformedMessageException.class, () -> store().verify(tampered));
    assertTrue(refused.getMessage().startsWith("bad signature"), refused.getMessage());
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void messageFromASignerNotInTheStoreIsRefusedAsUnknown(WireFormat format) {
    Message signed = signer(mallory, format).sign(task());

    MalformedMessageException refused =
        assertThrows(MalformedMessageException.class, () -> store().verify(signed));
    assertTrue(
        refused.getMessage().startsWith("unknown signer 'DE Lovage Test mallory "),
        refused.getMessage());
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void messageNamingATrustedSignerButSignedWithAnotherKeyIsRefusedAsForged(WireFormat format)
      throws Exception {
    String aliceId = signer(alice, format).signer();
    byte[] body = task().body();
    byte[] forgedSignature = Pss.sign(Pem.rsaPrivateKey(mallory.key()), "SHA-256", body);
    Message forged =
        withBody(
            task(),
            new SignedBody(aliceId, forgedSignature, "application/json", "utf-8", body)
                .pack(format));

    MalformedMessageException refused =
        assertThrows(MalformedMessageException.class, () -> store().verify(forged));
    assertTrue(refused.getMessage().startsWith("bad signature from signer '" + aliceId));
  }

  @Test
  void unsignedMessageIsRefusedWhenCertificatesAreTrusted() {
    MalformedMessageException refused =
        assertThrows(
            MalformedMessageException.class, () -> MessageSecurity.trusting(store()).open(task()));

    assertTrue(
        refused.getMessage().startsWith("unsigned message (content type 'application/json')"));
  }

  @Test
  void signedMessageIsRefusedWhenNoCertificatesAreTrusted() {
    Message signed = signer(alice, WireFormat.DEFAULT).sign(task());

    MalformedMessageException refused =
        assertThrows(MalformedMessageException.class, () -> MessageSecurity.NONE.open(signed));
    assertTrue(refused.getMessage().contains("no LOVAGE_SECURITY_CERT_STORE"));
  }

  @Test
  void withoutSecurityMessagesPassAsTheyAre() throws Exception {
    Message plain = task();

    assertSame(plain, MessageSecurity.NONE.seal(plain));
    assertSame(plain, MessageSecurity.NONE.open(plain));
  }

  @Test
  void messageSignedByACertificateNoLongerValidIsRefused() {
    Message signed = signer(alice, WireFormat.DEFAULT).sign(task());
    Clock inAWeek = Clock.fixed(Instant.now().plus(Duration.ofDays(7)), ZoneOffset.UTC);
    CertStore later =
        new CertStore(Pem.certificates(alice.certificate()), Pss.DEFAULT_DIGEST, inAWeek);

    MalformedMessageException refused =
        assertThrows(MalformedMessageException.class, () -> later.verify(signed));
    assertTrue(refused.getMessage().contains("is not valid now"), refused.getMessage());
  }

  @Test
  void severalTrustedCertificatesLetOldAndNewKeysSignDuringARotation() throws Exception {
    Signer next = TestCertificates.make(dir, "alice-2027");
    Path both = Files.createDirectory(dir.resolve("rotation"));
    Files.copy(alice.certificate(), both.resolve("alice.pem"));
    Files.copy(next.certificate(), both.resolve("alice-2027.pem"));
    Files.writeString(both.resolve("README"), "not a certificate, not matched by the glob");
    CertStore store = CertStore.fromPath(both.resolve("*.pem").toString());

    assertEquals(2, store.signers().size());
    assertEquals(task(), store.verify(signer(alice, WireFormat.DEFAULT).sign(task())));
    assertEquals(task(), store.verify(signer(next, WireFormat.CELERY_5_5).sign(task())));
  }

  @Test
  void pkcs1KeyAsOlderOpensslWritesItSignsLikeItsPkcs8Form() throws Exception {
    Path pkcs1 = dir.resolve("alice-pkcs1.key");
    TestCertificates.openssl(
        "rsa", "-in", alice.key().toString(), "-traditional", "-out", pkcs1.toString());
    assertTrue(Files.readString(pkcs1).startsWith("-----BEGIN RSA PRIVATE KEY-----"));

    Message signed =
        MessageSigner.fromPem(pkcs1, alice.certificate(), WireFormat.DEFAULT).sign(task());

    assertEquals(task(), store().verify(signed));
  }

  @Test
  void keyThatIsNotTheCertificatesIsRefusedAtStart() {
    IllegalArgumentException refused =
        assertThrows(
            IllegalArgumentException.class,
            () -> MessageSigner.fromPem(mallory.key(), alice.certificate(), WireFormat.DEFAULT));

    assertTrue(refused.getMessage().contains("is not the key of LOVAGE_SECURITY_CERTIFICATE"));
  }

  @Test
  void keyWithoutCertificateIsASettingsError() {
    assertThrows(
        IllegalArgumentException.class,
        () -> MessageSecurity.fromSettings(alice.key().toString(), "", "", "", ""));
  }

  @Test
  void celery52SignatureHoldingTheSeparatorIsCutByTheKeysLength() throws Exception {
    MessageSigner signer = signer(alice, WireFormat.CELERY_5_2);
    int prefix = signer.signer().length() + 2;
    for (int i = 0; i < 10_000; i++) {
      Message plain = TaskMessageCodec.encode(TaskMessage.builder("demo.add").args(i, i).build());
      Message signed = signer.sign(plain);
      byte[] raw = Base64.getDecoder().decode(signed.body());
      if (holdsSeparator(Arrays.copyOfRange(raw, prefix, prefix + 256))) {
        assertEquals(plain, store().verify(signed));
        return;
      }
    }
    throw new AssertionError("no signature with \\x00\\x01 in 10,000 (expected one in ~260)");
  }

  @Test
  void wireSettingAcceptsCeleryVersions() {
    assertEquals(WireFormat.CELERY_5_2, WireFormat.parse(""));
    assertEquals(WireFormat.CELERY_5_2, WireFormat.parse("5.2"));
    assertEquals(WireFormat.CELERY_5_5, WireFormat.parse(" 5.5 "));
    assertThrows(IllegalArgumentException.class, () -> WireFormat.parse("6"));
  }

  private static boolean holdsSeparator(byte[] bytes) {
    for (int i = 0; i + 1 < bytes.length; i++) {
      if (bytes[i] == 0 && bytes[i + 1] == 1) {
        return true;
      }
    }
    return false;
  }

  /** The signed message with one character of its inner body replaced, packed again. */
  private static Message rewrite(
      Message signed,
      WireFormat format,
      java.util.function.ToIntFunction<String> where,
      char replacement) {
    try {
      SignedBody body = SignedBody.unpack(signed.body(), id -> java.util.OptionalInt.of(256));
      byte[] inner = body.body().clone();
      inner[where.applyAsInt(new String(inner, StandardCharsets.UTF_8))] = (byte) replacement;
      return withBody(
          signed,
          new SignedBody(
                  body.signer(),
                  body.signature(),
                  body.contentType(),
                  body.contentEncoding(),
                  inner)
              .pack(format));
    } catch (MalformedMessageException e) {
      throw new AssertionError(e);
    }
  }

  private static Message withBody(Message message, byte[] body) {
    return new Message(
        body,
        message.headers(),
        "application/data",
        "utf-8",
        message.correlationId(),
        message.replyTo(),
        message.priority(),
        message.persistent());
  }
}
