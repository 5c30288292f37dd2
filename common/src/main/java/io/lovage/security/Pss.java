package io.lovage.security;

import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.RSAKey;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.util.Locale;

/**
 * RSA-PSS as Celery signs: MGF1 with the message digest, the longest salt the key allows ({@code
 * padding.PSS.MAX_LENGTH}), digest {@code security_digest} (sha256 by default).
 */
final class Pss {
  /** Celery's {@code security_digest} default. */
  static final String DEFAULT_DIGEST = "sha256";

  private Pss() {}

  /**
   * Celery's digest name ({@code sha256}, as in {@code hashes.SHA256}) as Java names it, {@code
   * SHA-256}.
   */
  static String javaDigest(String celeryName) {
    String name = celeryName.trim().toUpperCase(Locale.ROOT).replace("-", "").replace("_", "");
    return switch (name) {
      case "SHA1" -> "SHA-1";
      case "SHA224", "SHA256", "SHA384", "SHA512" -> "SHA-" + name.substring(3);
      case "SHA512224" -> "SHA-512/224";
      case "SHA512256" -> "SHA-512/256";
      case "SHA3224", "SHA3256", "SHA3384", "SHA3512" -> "SHA3-" + name.substring(4);
      default ->
          throw new IllegalArgumentException(
              "LOVAGE_SECURITY_DIGEST: unsupported digest '"
                  + celeryName
                  + "' (sha256, sha384, sha512, sha1, …)");
    };
  }

  static byte[] sign(PrivateKey key, String digest, byte[] data) throws GeneralSecurityException {
    Signature pss = instance(key, digest);
    pss.initSign(key);
    pss.update(data);
    return pss.sign();
  }

  static boolean verify(PublicKey key, String digest, byte[] data, byte[] signature) {
    try {
      Signature pss = instance(key, digest);
      pss.initVerify(key);
      pss.update(data);
      return pss.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** The signature's length in bytes for this key: its modulus' (256 for 2048 bits). */
  static int signatureLength(PublicKey key) {
    return (((RSAKey) key).getModulus().bitLength() + 7) / 8;
  }

  private static Signature instance(Key key, String digest) throws GeneralSecurityException {
    if (!(key instanceof RSAKey rsa)) {
      throw new GeneralSecurityException("not an RSA key: " + key.getAlgorithm());
    }
    Signature pss = Signature.getInstance("RSASSA-PSS");
    int hashLength = java.security.MessageDigest.getInstance(digest).getDigestLength();
    // RFC 8017 9.1.1: emLen = ceil((modBits - 1) / 8), the longest salt emLen - hLen - 2.
    int emLength = (rsa.getModulus().bitLength() - 1 + 7) / 8;
    pss.setParameter(
        new PSSParameterSpec(
            digest,
            "MGF1",
            new MGF1ParameterSpec(digest),
            emLength - hashLength - 2,
            PSSParameterSpec.TRAILER_FIELD_BC));
    return pss;
  }
}
