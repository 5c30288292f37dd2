package io.lovage.security;

import java.util.Locale;

/**
 * The two layouts of Celery's {@code auth} payload. Neither Celery reads the other's: 5.5 takes a
 * 5.2 signer for base64 ("Incorrect padding"), 5.2 looks a 5.5 signer up in its store still
 * base64'd ("Unknown certificate"). Lovage reads both and writes the one it is told to.
 */
public enum WireFormat {
  /**
   * Celery up to 5.4 (Debian bookworm's 5.2): the signer's id and the raw signature, the signature
   * cut by the signer's key size.
   */
  CELERY_5_2("5.2"),
  /** Celery 5.5 and later: signer and signature each base64'd, fields split by the separator. */
  CELERY_5_5("5.5");

  /** What Debian's Celery 5.2 reads; {@code LOVAGE_SECURITY_WIRE}'s default. */
  public static final WireFormat DEFAULT = CELERY_5_2;

  private final String version;

  WireFormat(String version) {
    this.version = version;
  }

  /** The Celery version as {@code LOVAGE_SECURITY_WIRE} spells it: {@code 5.2} or {@code 5.5}. */
  public String version() {
    return version;
  }

  /**
   * {@code 5.2} (also {@code 5.0}–{@code 5.4}) or {@code 5.5} (and later); blank is the default.
   *
   * @throws IllegalArgumentException naming the setting and what it accepts
   */
  public static WireFormat parse(String text) {
    if (text == null || text.isBlank()) {
      return DEFAULT;
    }
    String value = text.trim().toLowerCase(Locale.ROOT);
    return switch (value) {
      case "5.0", "5.1", "5.2", "5.3", "5.4" -> CELERY_5_2;
      case "5.5", "5.6" -> CELERY_5_5;
      default ->
          throw new IllegalArgumentException(
              "LOVAGE_SECURITY_WIRE must be 5.2 (Celery up to 5.4) or 5.5 (Celery 5.5 and later),"
                  + " got '"
                  + text
                  + "'");
    };
  }
}
