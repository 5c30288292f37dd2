package io.lovage.security;

import io.lovage.broker.Message;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * Signs task messages as Celery's {@code auth} serializer does: the body (the inner serializer's
 * bytes, {@code [args, kwargs, embed]} as JSON) is signed with the private key and packed with the
 * certificate's id; headers and properties stay as they are.
 *
 * <pre>{@code
 * MessageSigner signer =
 *     MessageSigner.fromPem(Path.of("worker.key"), Path.of("worker.pem"), WireFormat.CELERY_5_2);
 * Message signed = signer.sign(TaskMessageCodec.encode(task));
 * }</pre>
 */
public final class MessageSigner {
  private final PrivateKey key;
  private final X509Certificate certificate;
  private final String signer;
  private final WireFormat format;
  private final String digest;

  /**
   * @param digest Celery's {@code security_digest}, e.g. {@code sha256}
   */
  public MessageSigner(
      PrivateKey key, X509Certificate certificate, WireFormat format, String digest) {
    this.key = key;
    this.certificate = certificate;
    this.signer = SignerId.of(certificate);
    this.format = format;
    this.digest = Pss.javaDigest(digest);
    checkPair();
  }

  /** From the PEM files {@code LOVAGE_SECURITY_KEY} and {@code LOVAGE_SECURITY_CERTIFICATE}. */
  public static MessageSigner fromPem(Path key, Path certificate, WireFormat format) {
    return fromPem(key, certificate, format, Pss.DEFAULT_DIGEST);
  }

  public static MessageSigner fromPem(
      Path key, Path certificate, WireFormat format, String digest) {
    return new MessageSigner(
        Pem.rsaPrivateKey(key), Pem.certificates(certificate).get(0), format, digest);
  }

  /** The id a signed message names its signer by: {@link SignerId}. */
  public String signer() {
    return signer;
  }

  public WireFormat format() {
    return format;
  }

  /** The message with its body signed: content type {@value SignedBody#CONTENT_TYPE}. */
  public Message sign(Message plain) {
    byte[] signature;
    try {
      signature = Pss.sign(key, digest, plain.body());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with the key of '" + signer + "'", e);
    }
    SignedBody body =
        new SignedBody(
            signer, signature, plain.contentType(), plain.contentEncoding(), plain.body());
    return new Message(
        body.pack(format),
        plain.headers(),
        SignedBody.CONTENT_TYPE,
        SignedBody.CONTENT_ENCODING,
        plain.correlationId(),
        plain.replyTo(),
        plain.priority(),
        plain.persistent());
  }

  /** A key that does not belong to its certificate would sign messages no worker accepts. */
  private void checkPair() {
    byte[] probe = "lovage".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    try {
      if (Pss.verify(certificate.getPublicKey(), digest, probe, Pss.sign(key, digest, probe))) {
        return;
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot sign with this key: " + e.getMessage(), e);
    }
    throw new IllegalArgumentException(
        "LOVAGE_SECURITY_KEY is not the key of LOVAGE_SECURITY_CERTIFICATE ('" + signer + "')");
  }
}
