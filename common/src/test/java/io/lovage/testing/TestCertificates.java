package io.lovage.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * RSA keys and self-signed certificates made with {@code openssl} at test time, as an operator
 * would make them for Celery's {@code auth} serializer.
 */
public final class TestCertificates {
  private TestCertificates() {}

  /** A key (PKCS#8 PEM) and its certificate (PEM) in a directory. */
  public record Signer(Path key, Path certificate) {}

  /**
   * {@code openssl req -x509 -newkey rsa:2048 -nodes}: a new key and a certificate for it, valid
   * for two days, issued to and by {@code /C=DE/O=Lovage Test/CN=<name>}.
   */
  public static Signer make(Path dir, String name) {
    Path key = dir.resolve(name + ".key");
    Path certificate = dir.resolve(name + ".pem");
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key.toString(),
        "-out",
        certificate.toString(),
        "-days",
        "2",
        "-subj",
        "/C=DE/O=Lovage Test/CN=" + name);
    return new Signer(key, certificate);
  }

  /**
   * A key and a certificate for {@code name} signed by {@code ca} (one from {@link #make}), valid
   * for two days, for the host names and addresses in {@code subjectAltName} (e.g. {@code
   * DNS:localhost,IP:127.0.0.1}), usable by a TLS server and client.
   */
  public static Signer signed(Path dir, String name, Signer ca, String subjectAltName) {
    Path key = dir.resolve(name + ".key");
    Path request = dir.resolve(name + ".csr");
    Path certificate = dir.resolve(name + ".pem");
    Path extensions = dir.resolve(name + ".ext");
    try {
      java.nio.file.Files.writeString(
          extensions,
          "subjectAltName=" + subjectAltName + "\nextendedKeyUsage=serverAuth,clientAuth\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key.toString(),
        "-out",
        request.toString(),
        "-subj",
        "/C=DE/O=Lovage Test/CN=" + name);
    openssl(
        "x509",
        "-req",
        "-in",
        request.toString(),
        "-CA",
        ca.certificate().toString(),
        "-CAkey",
        ca.key().toString(),
        "-CAcreateserial",
        "-out",
        certificate.toString(),
        "-days",
        "2",
        "-extfile",
        extensions.toString());
    return new Signer(key, certificate);
  }

  /** Runs openssl; answers its standard output, or throws with its error output. */
  public static String openssl(String... arguments) {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(arguments));
    try {
      Process process =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.PIPE).start();
      process.getOutputStream().close();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed: " + err);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
