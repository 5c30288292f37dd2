package io.lovage.security;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the PEM files Celery's {@code security_key} and {@code security_certificate} name: X.509
 * certificates, and unencrypted RSA keys as PKCS#8 ({@code BEGIN PRIVATE KEY}, what {@code openssl
 * req -newkey rsa:2048 -nodes} writes) or PKCS#1 ({@code BEGIN RSA PRIVATE KEY}, older openssl). An
 * encrypted key is refused with the command that decrypts it.
 */
final class Pem {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]*)-----END \\1-----");

  private Pem() {}

  static List<X509Certificate> certificates(Path file) {
    byte[] text = read(file);
    try {
      List<X509Certificate> certificates =
          CertificateFactory.getInstance("X.509")
              .generateCertificates(new ByteArrayInputStream(text))
              .stream()
              .map(X509Certificate.class::cast)
              .toList();
      if (certificates.isEmpty()) {
        throw new IllegalArgumentException("no PEM certificate in " + file);
      }
      return certificates;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "not a PEM X.509 certificate: " + file + " (" + e.getMessage() + ")", e);
    }
  }

  static PrivateKey rsaPrivateKey(Path file) {
    try {
      return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8(file)));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          "not an RSA private key: " + file + " (" + e.getMessage() + ")", e);
    }
  }

  /** The unencrypted key in the file as PKCS#8 DER, from either PEM form. */
  private static byte[] pkcs8(Path file) {
    Matcher block =
        BLOCK.matcher(new String(read(file), java.nio.charset.StandardCharsets.US_ASCII));
    if (!block.find()) {
      throw new IllegalArgumentException("no PEM private key in " + file);
    }
    String kind = block.group(1);
    byte[] der = Base64.getMimeDecoder().decode(block.group(2));
    return switch (kind) {
      case "PRIVATE KEY" -> der;
      case "RSA PRIVATE KEY" -> pkcs1ToPkcs8(der);
      case "ENCRYPTED PRIVATE KEY" ->
          throw new IllegalArgumentException(
              "the private key in "
                  + file
                  + " is encrypted: write it unencrypted (openssl pkcs8 -topk8 -nocrypt -in"
                  + " key.pem -out key-plain.pem) and keep that file readable only by Lovage");
      default ->
          throw new IllegalArgumentException(
              "expected an RSA private key in " + file + ", found '" + kind + "'");
    };
  }

  /**
   * An RSA key as {@link #rsaPrivateKey} reads it, or an EC key in PKCS#8 ({@code openssl genpkey
   * -algorithm EC}): what a TLS client certificate may have.
   */
  static PrivateKey privateKey(Path file) {
    byte[] pkcs8 = pkcs8(file);
    for (String algorithm : List.of("RSA", "EC")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      } catch (GeneralSecurityException e) {
        // not of this algorithm: try the next
      }
    }
    throw new IllegalArgumentException("not an RSA or EC private key: " + file);
  }

  /**
   * Wraps a PKCS#1 RSAPrivateKey in PKCS#8's PrivateKeyInfo: {@code SEQUENCE { INTEGER 0, SEQUENCE
   * { OID rsaEncryption, NULL }, OCTET STRING { key } }}.
   */
  private static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
    byte[] version = {0x02, 0x01, 0x00};
    byte[] algorithm = {
      0x30,
      0x0d,
      0x06,
      0x09,
      0x2a,
      (byte) 0x86,
      0x48,
      (byte) 0x86,
      (byte) 0xf7,
      0x0d,
      0x01,
      0x01,
      0x01,
      0x05,
      0x00
    };
    byte[] key = tlv(0x04, pkcs1);
    java.io.ByteArrayOutputStream content = new java.io.ByteArrayOutputStream();
    content.writeBytes(version);
    content.writeBytes(algorithm);
    content.writeBytes(key);
    return tlv(0x30, content.toByteArray());
  }

  private static byte[] tlv(int tag, byte[] content) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(content.length + 6);
    out.write(tag);
    int length = content.length;
    if (length < 0x80) {
      out.write(length);
    } else {
      int bytes = (32 - Integer.numberOfLeadingZeros(length) + 7) / 8;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write((length >>> (8 * i)) & 0xff);
      }
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}
