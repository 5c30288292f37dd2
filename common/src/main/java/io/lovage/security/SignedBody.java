package io.lovage.security;

import io.lovage.protocol.MalformedMessageException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.OptionalInt;
import java.util.function.Function;

/**
 * What Celery's {@code auth} serializer puts in a message body: base64 of {@code signer SEP
 * signature SEP content_type SEP content_encoding SEP body}, SEP being {@code \x00\x01}
 * (celery/security/serialization.py). The signature covers {@link #body()} alone, the bytes of the
 * inner serializer (JSON): headers, the task name among them, are not signed.
 *
 * @param signer the certificate's id, {@link SignerId}: issuer values and serial number
 * @param signature RSA-PSS over {@link #body()}
 * @param contentType the inner body's, {@code application/json}
 * @param contentEncoding the inner body's, {@code utf-8}
 * @param body the inner body, e.g. {@code [args, kwargs, embed]} as JSON
 */
public record SignedBody(
    String signer, byte[] signature, String contentType, String contentEncoding, byte[] body) {

  /** The message content type of a signed message: the {@code auth} serializer's. */
  public static final String CONTENT_TYPE = "application/data";

  public static final String CONTENT_ENCODING = "utf-8";

  private static final byte[] SEPARATOR = {0x00, 0x01};

  /** This body as the payload of a message, in the given layout. */
  public byte[] pack(WireFormat format) {
    ByteArrayOutputStream fields = new ByteArrayOutputStream(body.length + signature.length + 128);
    byte[] signerBytes = signer.getBytes(StandardCharsets.UTF_8);
    if (format == WireFormat.CELERY_5_5) {
      fields.writeBytes(Base64.getEncoder().encode(signerBytes));
      fields.writeBytes(SEPARATOR);
      fields.writeBytes(Base64.getEncoder().encode(signature));
    } else {
      fields.writeBytes(signerBytes);
      fields.writeBytes(SEPARATOR);
      fields.writeBytes(signature);
    }
    fields.writeBytes(SEPARATOR);
    fields.writeBytes(contentType.getBytes(StandardCharsets.UTF_8));
    fields.writeBytes(SEPARATOR);
    fields.writeBytes(contentEncoding.getBytes(StandardCharsets.UTF_8));
    fields.writeBytes(SEPARATOR);
    fields.writeBytes(body);
    return Base64.getEncoder().encode(fields.toByteArray());
  }

  /**
   * Reads a payload in either layout. A 5.2 signer is {@code "<issuer> <serial>"} and always holds
   * a space, a 5.5 signer is base64 and never does: that tells them apart. A 5.2 signature is as
   * long as the signer's key (it may contain the separator), so reading one needs the signer's
   * certificate.
   *
   * @param signatureLength the signature length in bytes of a signer's key, empty for a signer not
   *     known
   * @throws MalformedMessageException naming what is wrong, or the unknown 5.2 signer
   */
  public static SignedBody unpack(byte[] payload, Function<String, OptionalInt> signatureLength)
      throws MalformedMessageException {
    byte[] raw;
    try {
      raw = Base64.getMimeDecoder().decode(payload);
    } catch (IllegalArgumentException e) {
      throw new MalformedMessageException(
          "signed message body is not base64 (Celery's auth serializer): " + e.getMessage(), e);
    }
    int first = indexOf(raw, 0);
    if (first < 0) {
      throw notAuth("no separator");
    }
    byte[] firstField = Arrays.copyOfRange(raw, 0, first);
    if (indexOf(firstField, (byte) ' ') >= 0) {
      return unpack52(raw, new String(firstField, StandardCharsets.UTF_8), first, signatureLength);
    }
    return unpack55(raw);
  }

  private static SignedBody unpack52(
      byte[] raw, String signer, int first, Function<String, OptionalInt> signatureLength)
      throws MalformedMessageException {
    OptionalInt length = signatureLength.apply(signer);
    if (length.isEmpty()) {
      throw new MalformedMessageException(unknownSigner(signer));
    }
    int start = first + SEPARATOR.length;
    int end = start + length.getAsInt();
    if (end + SEPARATOR.length > raw.length || !separatorAt(raw, end)) {
      throw notAuth("the signature is not " + length.getAsInt() + " bytes long");
    }
    byte[][] rest = split(raw, end + SEPARATOR.length, 3);
    return new SignedBody(
        signer, Arrays.copyOfRange(raw, start, end), text(rest[0]), text(rest[1]), rest[2]);
  }

  private static SignedBody unpack55(byte[] raw) throws MalformedMessageException {
    byte[][] fields = split(raw, 0, 5);
    try {
      return new SignedBody(
          new String(Base64.getDecoder().decode(fields[0]), StandardCharsets.UTF_8),
          Base64.getDecoder().decode(fields[1]),
          text(fields[2]),
          text(fields[3]),
          fields[4]);
    } catch (IllegalArgumentException e) {
      throw notAuth("signer or signature is not base64");
    }
  }

  /** Why a signer is refused: the same words wherever it is found unknown. */
  static String unknownSigner(String signer) {
    return "unknown signer '"
        + signer
        + "': no trusted certificate (LOVAGE_SECURITY_CERT_STORE) has that issuer and serial"
        + " number";
  }

  private static MalformedMessageException notAuth(String what) {
    return new MalformedMessageException(
        "signed message body is not in Celery's auth format: " + what);
  }

  /** Splits at the first {@code count - 1} separators from {@code from}, as Python's maxsplit. */
  private static byte[][] split(byte[] raw, int from, int count) throws MalformedMessageException {
    byte[][] fields = new byte[count][];
    int start = from;
    for (int i = 0; i < count - 1; i++) {
      int next = indexOf(raw, start);
      if (next < 0) {
        throw notAuth("expected 5 fields");
      }
      fields[i] = Arrays.copyOfRange(raw, start, next);
      start = next + SEPARATOR.length;
    }
    fields[count - 1] = Arrays.copyOfRange(raw, start, raw.length);
    return fields;
  }

  private static int indexOf(byte[] raw, int from) {
    for (int i = from; i + 1 < raw.length; i++) {
      if (separatorAt(raw, i)) {
        return i;
      }
    }
    return -1;
  }

  private static int indexOf(byte[] raw, byte b) {
    for (int i = 0; i < raw.length; i++) {
      if (raw[i] == b) {
        return i;
      }
    }
    return -1;
  }

  private static boolean separatorAt(byte[] raw, int i) {
    return raw[i] == SEPARATOR[0] && raw[i + 1] == SEPARATOR[1];
  }

  private static String text(byte[] field) {
    return new String(field, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SignedBody s
        && signer.equals(s.signer)
        && Arrays.equals(signature, s.signature)
        && contentType.equals(s.contentType)
        && contentEncoding.equals(s.contentEncoding)
        && Arrays.equals(body, s.body);
  }

  @Override
  public int hashCode() {
    return 31 * signer.hashCode() + Arrays.hashCode(body);
  }

  @Override
  public String toString() {
    return "SignedBody[signer="
        + signer
        + ", contentType="
        + contentType
        + ", "
        + body.length
        + " bytes]";
  }
}
