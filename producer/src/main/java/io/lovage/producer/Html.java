package io.lovage.producer;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Text made safe for the dashboard's HTML: every value from a task, a worker or a request goes
 * through {@link #esc} (in text and in quoted attributes) or {@link #query} (in a URL's query).
 */
final class Html {
  private Html() {}

  /** The text with {@code & < > " '} escaped; null is empty. */
  static String esc(Object value) {
    if (value == null) {
      return "";
    }
    String text = value.toString();
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  /** A link: {@code href} and {@code text} both escaped. */
  static String link(String href, Object text) {
    return "<a href=\"" + esc(href) + "\">" + esc(text) + "</a>";
  }

  /** A query parameter's or path segment's value, percent-encoded. */
  static String query(String value) {
    return URLEncoder.encode(value == null ? "" : value, StandardCharsets.UTF_8)
        .replace("+", "%20");
  }
}
