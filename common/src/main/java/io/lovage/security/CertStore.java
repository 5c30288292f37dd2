package io.lovage.security;

import io.lovage.broker.Message;
import io.lovage.protocol.MalformedMessageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The certificates whose signatures a worker trusts, by {@link SignerId}: Celery's {@code
 * security_cert_store}. Several at once, so a new key can be trusted everywhere before producers
 * sign with it, and the old one removed after.
 *
 * <pre>{@code
 * CertStore store = CertStore.fromPath("/etc/lovage/trusted/*.pem");
 * Message plain = store.verify(delivery.message()); // or a MalformedMessageException saying why
 * }</pre>
 */
public final class CertStore {
  private final Map<String, X509Certificate> certificates;
  private final String digest;
  private final Clock clock;

  public CertStore(Collection<X509Certificate> certificates, String digest, Clock clock) {
    Map<String, X509Certificate> byId = new LinkedHashMap<>();
    for (X509Certificate certificate : certificates) {
      String id = SignerId.of(certificate);
      if (byId.putIfAbsent(id, certificate) != null && !byId.get(id).equals(certificate)) {
        throw new IllegalArgumentException(
            "two trusted certificates have the same issuer and serial number: '" + id + "'");
      }
    }
    this.certificates = Map.copyOf(byId);
    this.digest = Pss.javaDigest(digest);
    this.clock = clock;
  }

  /**
   * The certificates in a directory (every file in it), or in the files a glob names ({@code
   * /etc/lovage/trusted/*.pem}), as Celery's {@code FSCertStore} reads them.
   *
   * @throws IllegalArgumentException when nothing is found or a file is not a certificate
   */
  public static CertStore fromPath(String path) {
    return fromPath(path, Pss.DEFAULT_DIGEST);
  }

  public static CertStore fromPath(String path, String digest) {
    List<X509Certificate> found = new ArrayList<>();
    for (Path file : files(path)) {
      found.addAll(Pem.certificates(file));
    }
    if (found.isEmpty()) {
      throw new IllegalArgumentException(
          "LOVAGE_SECURITY_CERT_STORE: no certificate found in '" + path + "'");
    }
    return new CertStore(found, digest, Clock.systemUTC());
  }

  /** The ids of the trusted signers. */
  public java.util.Set<String> signers() {
    return certificates.keySet();
  }

  /**
   * The plain message inside a signed one ({@value SignedBody#CONTENT_TYPE}): the inner body with
   * its own content type and encoding, the same headers and properties.
   *
   * @throws MalformedMessageException saying why it is refused: not signed, not the auth format, an
   *     unknown signer, a certificate not valid now, or a signature that does not verify
   */
  public Message verify(Message signed) throws MalformedMessageException {
    if (!SignedBody.CONTENT_TYPE.equalsIgnoreCase(signed.contentType())) {
      throw new MalformedMessageException(
          "unsigned message (content type '"
              + signed.contentType()
              + "'): this worker runs signed messages only (LOVAGE_SECURITY_CERT_STORE is set)");
    }
    SignedBody body = SignedBody.unpack(signed.body(), this::signatureLength);
    X509Certificate certificate = certificates.get(body.signer());
    if (certificate == null) {
      throw new MalformedMessageException(SignedBody.unknownSigner(body.signer()));
    }
    try {
      certificate.checkValidity(Date.from(clock.instant()));
    } catch (CertificateExpiredException | CertificateNotYetValidException e) {
      throw new MalformedMessageException(
          "certificate of signer '"
              + body.signer()
              + "' is not valid now (valid "
              + certificate.getNotBefore().toInstant()
              + " to "
              + certificate.getNotAfter().toInstant()
              + ")");
    }
    if (!Pss.verify(certificate.getPublicKey(), digest, body.body(), body.signature())) {
      throw new MalformedMessageException(
          "bad signature from signer '"
              + body.signer()
              + "': the body was changed after signing, or another key signed it");
    }
    return new Message(
        body.body(),
        signed.headers(),
        body.contentType(),
        body.contentEncoding(),
        signed.correlationId(),
        signed.replyTo(),
        signed.priority(),
        signed.persistent());
  }

  private OptionalInt signatureLength(String signer) {
    X509Certificate certificate = certificates.get(signer);
    return certificate == null
        ? OptionalInt.empty()
        : OptionalInt.of(Pss.signatureLength(certificate.getPublicKey()));
  }

  private static List<Path> files(String path) {
    Path given = Path.of(path);
    List<Path> files = new ArrayList<>();
    try {
      if (Files.isDirectory(given)) {
        try (DirectoryStream<Path> all = Files.newDirectoryStream(given)) {
          all.forEach(files::add);
        }
      } else if (Files.isRegularFile(given)) {
        files.add(given);
      } else {
        Path dir = given.getParent() == null ? Path.of(".") : given.getParent();
        if (!Files.isDirectory(dir)) {
          throw new IllegalArgumentException(
              "LOVAGE_SECURITY_CERT_STORE: no such directory '" + dir + "'");
        }
        try (DirectoryStream<Path> matching =
            Files.newDirectoryStream(dir, given.getFileName().toString())) {
          matching.forEach(files::add);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read LOVAGE_SECURITY_CERT_STORE '" + path + "'", e);
    }
    files.removeIf(file -> !Files.isRegularFile(file));
    files.sort(null);
    return files;
  }
}
