package io.lovage.protocol;

import java.util.Iterator;
import java.util.Map;
import tools.jackson.databind.JsonNode;

/**
 * Renders JSON the way Python's {@code repr} renders the decoded value, for Celery's {@code
 * argsrepr} and {@code kwargsrepr} headers, which monitoring tools show as they are.
 */
public final class PythonRepr {
  private PythonRepr() {}

  public static String of(JsonNode node) {
    StringBuilder out = new StringBuilder();
    append(out, node);
    return out.toString();
  }

  private static void append(StringBuilder out, JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      out.append("None");
    } else if (node.isBoolean()) {
      out.append(node.booleanValue() ? "True" : "False");
    } else if (node.isIntegralNumber()) {
      out.append(node.bigIntegerValue());
    } else if (node.isNumber()) {
      out.append(floatRepr(node.doubleValue()));
    } else if (node.isString()) {
      appendString(out, node.stringValue());
    } else if (node.isArray()) {
      out.append('[');
      Iterator<JsonNode> items = node.values().iterator();
      while (items.hasNext()) {
        append(out, items.next());
        if (items.hasNext()) {
          out.append(", ");
        }
      }
      out.append(']');
    } else if (node.isObject()) {
      out.append('{');
      Iterator<Map.Entry<String, JsonNode>> fields = node.properties().iterator();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        appendString(out, field.getKey());
        out.append(": ");
        append(out, field.getValue());
        if (fields.hasNext()) {
          out.append(", ");
        }
      }
      out.append('}');
    } else {
      out.append(node);
    }
  }

  private static String floatRepr(double value) {
    if (Double.isNaN(value)) {
      return "nan";
    }
    if (Double.isInfinite(value)) {
      return value > 0 ? "inf" : "-inf";
    }
    if (value == Math.rint(value) && Math.abs(value) < 1e16) {
      return String.format(java.util.Locale.ROOT, "%.1f", value);
    }
    return Double.toString(value).replace("E", "e");
  }

  private static void appendString(StringBuilder out, String s) {
    char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    out.append(quote);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c == quote) {
            out.append('\\').append(c);
          } else if (c < 0x20 || c == 0x7f) {
            out.append(String.format(java.util.Locale.ROOT, "\\x%02x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append(quote);
  }
}
