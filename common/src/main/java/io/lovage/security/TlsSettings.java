package io.lovage.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * TLS to RabbitMQ, for AMQP ({@code amqps://}), the stream protocol and the management API: whom to
 * trust and, for mutual TLS, who we are. The broker's certificate and host name are verified unless
 * {@code insecure} says otherwise, which only development should.
 *
 * @param caFile PEM certificates of the CAs the broker's certificate must chain to ({@code
 *     LOVAGE_TLS_CA_FILE}); null: the JVM's trust store
 * @param certFile this client's PEM certificate, for brokers that ask for one ({@code
 *     LOVAGE_TLS_CERT_FILE}); null: none
 * @param keyFile the PEM private key of {@code certFile} ({@code LOVAGE_TLS_KEY_FILE}), RSA or EC
 * @param insecure trust any certificate for any host name ({@code LOVAGE_TLS_INSECURE=true})
 */
public record TlsSettings(Path caFile, Path certFile, Path keyFile, boolean insecure) {
  /** The JVM's trust store, host names verified, no client certificate. */
  public static final TlsSettings DEFAULT = new TlsSettings(null, null, null, false);

  public TlsSettings {
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException(
          "LOVAGE_TLS_CERT_FILE and LOVAGE_TLS_KEY_FILE go together: a client certificate needs"
              + " its key");
    }
    for (Path file : java.util.Arrays.asList(caFile, certFile, keyFile)) {
      if (file != null && !Files.isReadable(file)) {
        throw new IllegalArgumentException("cannot read the TLS file " + file);
      }
    }
  }

  /**
   * From the settings' text, blank meaning unset: {@code LOVAGE_TLS_CA_FILE}, {@code
   * LOVAGE_TLS_CERT_FILE}, {@code LOVAGE_TLS_KEY_FILE} and {@code LOVAGE_TLS_INSECURE}.
   *
   * @throws IllegalArgumentException naming the setting that is wrong
   */
  public static TlsSettings of(String caFile, String certFile, String keyFile, String insecure) {
    String flag = insecure == null ? "" : insecure.strip().toLowerCase(java.util.Locale.ROOT);
    if (!List.of("", "true", "false").contains(flag)) {
      throw new IllegalArgumentException(
          "LOVAGE_TLS_INSECURE is true or false, not '" + flag + "'");
    }
    return new TlsSettings(path(caFile), path(certFile), path(keyFile), flag.equals("true"));
  }

  public static TlsSettings fromEnvironment() {
    return of(
        System.getenv("LOVAGE_TLS_CA_FILE"),
        System.getenv("LOVAGE_TLS_CERT_FILE"),
        System.getenv("LOVAGE_TLS_KEY_FILE"),
        System.getenv("LOVAGE_TLS_INSECURE"));
  }

  private static Path path(String setting) {
    return setting == null || setting.isBlank() ? null : Path.of(setting.strip());
  }

  /** Whether any setting differs from {@link #DEFAULT}. */
  public boolean isSet() {
    return !equals(DEFAULT);
  }

  /** For the log: what is trusted and verified, and which certificate this client shows. */
  public String describe() {
    if (insecure) {
      return "INSECURE: any certificate for any host name is trusted (LOVAGE_TLS_INSECURE=true)";
    }
    return "verifies the broker's certificate against "
        + (caFile == null ? "the JVM's trust store" : caFile)
        + " and its host name"
        + (certFile == null ? "" : "; client certificate " + certFile);
  }

  /** Whom to trust: the CA file's certificates, the JVM's trust store, or anyone if insecure. */
  public TrustManagerFactory trustManagers() {
    try {
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      if (caFile == null) {
        factory.init((KeyStore) null);
        return factory;
      }
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      List<X509Certificate> cas = Pem.certificates(caFile);
      for (int i = 0; i < cas.size(); i++) {
        store.setCertificateEntry("ca-" + i, cas.get(i));
      }
      factory.init(store);
      return factory;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot use the CA file " + caFile + ": " + e, e);
    }
  }

  /** This client's certificate and key, when it has one. */
  public Optional<KeyManagerFactory> keyManagers() {
    if (certFile == null) {
      return Optional.empty();
    }
    try {
      List<X509Certificate> chain = Pem.certificates(certFile);
      PrivateKey key = Pem.privateKey(keyFile);
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setKeyEntry("client", key, new char[0], chain.toArray(X509Certificate[]::new));
      KeyManagerFactory factory =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      factory.init(store, new char[0]);
      return Optional.of(factory);
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException(
          "cannot use the client certificate " + certFile + " with key " + keyFile + ": " + e, e);
    }
  }

  /** A TLS context with {@link #trustManagers} and {@link #keyManagers}. */
  public SSLContext sslContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      TrustManager[] trust =
          insecure
              ? new TrustManager[] {new TrustingEveryone()}
              : trustManagers().getTrustManagers();
      context.init(keyManagers().map(KeyManagerFactory::getKeyManagers).orElse(null), trust, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot set up TLS: " + e, e);
    }
  }

  /**
   * Why a TLS handshake with the broker failed, in words that say what to change, from the
   * exception the handshake threw (or one caused by it); empty when it was not about TLS.
   */
  public static Optional<String> explain(Throwable failure, String host) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException) {
        String message = String.valueOf(t.getMessage());
        String why;
        if (message.contains("No subject alternative") || message.contains("No name matching")) {
          why =
              "the broker's certificate is not for the host name '"
                  + host
                  + "': connect with a name the certificate lists";
        } else if (message.contains("PKIX") || message.contains("unable to find valid")) {
          why =
              "the broker's certificate is not signed by a trusted CA: set LOVAGE_TLS_CA_FILE to"
                  + " the CA that signed it";
        } else if (message.contains("certificate_required")
            || message.contains("bad_certificate")) {
          why =
              "the broker asks for a client certificate it accepts: set LOVAGE_TLS_CERT_FILE and"
                  + " LOVAGE_TLS_KEY_FILE";
        } else {
          why = "the TLS handshake failed";
        }
        return Optional.of(why + " (" + message + ")");
      }
    }
    return Optional.empty();
  }

  /** LOVAGE_TLS_INSECURE: for a development broker with a self-signed certificate only. */
  private static final class TrustingEveryone implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
