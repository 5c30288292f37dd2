package io.lovage.security;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * A certificate's id as Celery's {@code Certificate.get_id()} computes it: the issuer's attribute
 * values in their order in the certificate, joined by spaces, a space, and the serial number in
 * decimal, e.g. {@code "DE Lovage signer 5491…"}. It is what a signed message names as its signer.
 *
 * <p>Read from the issuer's DER rather than {@code X500Principal.getName()}, which reverses the
 * order, escapes values, and writes unknown attribute types as hex.
 */
public final class SignerId {
  private SignerId() {}

  public static String of(X509Certificate certificate) {
    List<String> values = new ArrayList<>();
    byte[] der = certificate.getIssuerX500Principal().getEncoded();
    // Name ::= SEQUENCE OF RelativeDistinguishedName (SET OF AttributeTypeAndValue)
    Tlv name = Tlv.at(der, 0);
    for (int rdn = name.start; rdn < name.end; ) {
      Tlv set = Tlv.at(der, rdn);
      for (int atv = set.start; atv < set.end; ) {
        Tlv pair = Tlv.at(der, atv);
        Tlv type = Tlv.at(der, pair.start);
        Tlv value = Tlv.at(der, type.end);
        values.add(value.text(der));
        atv = pair.end;
      }
      rdn = set.end;
    }
    return String.join(" ", values) + " " + certificate.getSerialNumber();
  }

  /** One DER tag-length-value: its tag, where its content starts and where it ends. */
  private record Tlv(int tag, int start, int end) {
    static Tlv at(byte[] der, int offset) {
      int tag = der[offset] & 0xff;
      int first = der[offset + 1] & 0xff;
      int length;
      int start;
      if (first < 0x80) {
        length = first;
        start = offset + 2;
      } else {
        int bytes = first & 0x7f;
        length = 0;
        for (int i = 0; i < bytes; i++) {
          length = (length << 8) | (der[offset + 2 + i] & 0xff);
        }
        start = offset + 2 + bytes;
      }
      if (start + length > der.length) {
        throw new IllegalArgumentException("certificate issuer is not valid DER");
      }
      return new Tlv(tag, start, start + length);
    }

    String text(byte[] der) {
      Charset charset =
          switch (tag) {
            case 0x1e -> StandardCharsets.UTF_16BE; // BMPString
            case 0x1c -> Charset.forName("UTF-32BE"); // UniversalString
            case 0x14 -> StandardCharsets.ISO_8859_1; // T61String
            default -> StandardCharsets.UTF_8; // UTF8, Printable, IA5, Numeric, Visible
          };
      return new String(der, start, end - start, charset);
    }
  }
}
