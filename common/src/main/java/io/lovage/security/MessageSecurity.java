package io.lovage.security;

import io.lovage.broker.Message;
import io.lovage.protocol.MalformedMessageException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether task messages are signed when sent and must be signed when received: what {@link
 * io.lovage.TaskClient} seals with and what a worker opens with, so neither needs to know how.
 *
 * <ul>
 *   <li>{@link #NONE}: sends plain JSON; runs plain JSON; refuses a signed message, which it could
 *       not verify.
 *   <li>with a signer ({@code LOVAGE_SECURITY_KEY}, {@code LOVAGE_SECURITY_CERTIFICATE}): signs
 *       every task message it sends.
 *   <li>with trusted certificates ({@code LOVAGE_SECURITY_CERT_STORE}): runs signed messages only,
 *       from a trusted signer with a signature that verifies.
 * </ul>
 *
 * <pre>{@code
 * MessageSecurity security =
 *     MessageSecurity.fromSettings(System.getenv("LOVAGE_SECURITY_KEY"),
 *         System.getenv("LOVAGE_SECURITY_CERTIFICATE"), System.getenv("LOVAGE_SECURITY_CERT_STORE"),
 *         "5.2", "sha256");
 * }</pre>
 *
 * @param signer signs what is sent, if present
 * @param trusted the certificates a received message must be signed by, if present
 */
public record MessageSecurity(Optional<MessageSigner> signer, Optional<CertStore> trusted) {

  /** Neither signs nor requires signatures. */
  public static final MessageSecurity NONE =
      new MessageSecurity(Optional.empty(), Optional.empty());

  public MessageSecurity {
    java.util.Objects.requireNonNull(signer, "signer");
    java.util.Objects.requireNonNull(trusted, "trusted");
  }

  public static MessageSecurity signingWith(MessageSigner signer) {
    return new MessageSecurity(Optional.of(signer), Optional.empty());
  }

  public static MessageSecurity trusting(CertStore store) {
    return new MessageSecurity(Optional.empty(), Optional.of(store));
  }

  public MessageSecurity withSigner(MessageSigner newSigner) {
    return new MessageSecurity(Optional.of(newSigner), trusted);
  }

  public MessageSecurity withTrusted(CertStore store) {
    return new MessageSecurity(signer, Optional.of(store));
  }

  /**
   * From the settings, each blank when unset: key and certificate (PEM paths) sign, the store
   * (directory or glob) verifies; wire is {@code 5.2} or {@code 5.5} ({@link WireFormat#parse}),
   * digest Celery's {@code security_digest} ({@code sha256} when blank).
   *
   * @throws IllegalArgumentException when only one of key and certificate is set, or a file is not
   *     what it should be
   */
  public static MessageSecurity fromSettings(
      String key, String certificate, String certStore, String wire, String digest) {
    String hash = isBlank(digest) ? Pss.DEFAULT_DIGEST : digest.trim();
    if (isBlank(key) != isBlank(certificate)) {
      throw new IllegalArgumentException(
          "LOVAGE_SECURITY_KEY and LOVAGE_SECURITY_CERTIFICATE sign together: set both or neither");
    }
    MessageSecurity security = NONE;
    if (!isBlank(key)) {
      security =
          security.withSigner(
              MessageSigner.fromPem(
                  Path.of(key.trim()), Path.of(certificate.trim()), WireFormat.parse(wire), hash));
    }
    if (!isBlank(certStore)) {
      security = security.withTrusted(CertStore.fromPath(certStore.trim(), hash));
    }
    return security;
  }

  /** The message signed, when there is a signer; else as it is. */
  public Message seal(Message plain) {
    return signer.map(s -> s.sign(plain)).orElse(plain);
  }

  /**
   * The plain message to run: a signed one verified and unwrapped when certificates are trusted, an
   * unsigned one as it is when none are.
   *
   * @throws MalformedMessageException saying why the message must not run
   */
  public Message open(Message received) throws MalformedMessageException {
    if (trusted.isPresent()) {
      return trusted.get().verify(received);
    }
    if (SignedBody.CONTENT_TYPE.equalsIgnoreCase(received.contentType())) {
      throw new MalformedMessageException(
          "signed message (content type "
              + SignedBody.CONTENT_TYPE
              + ") but no LOVAGE_SECURITY_CERT_STORE to verify it with");
    }
    return received;
  }

  /** For the start-up log: who signs, how many signers are trusted. */
  public String describe() {
    String signs =
        signer
            .map(s -> "signs as '" + s.signer() + "' (Celery " + s.format().version() + " layout)")
            .orElse("does not sign");
    String trusts =
        trusted
            .map(t -> "runs signed messages only, from " + t.signers().size() + " trusted signers")
            .orElse("runs unsigned messages");
    return signs + ", " + trusts;
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }
}
