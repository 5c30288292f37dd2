package io.lovage.protocol;

import java.math.BigInteger;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads back what Python's {@code repr} writes for plain values (None, True, False, numbers,
 * strings, lists, tuples, dicts with string keys), as JSON: Celery's task events carry results only
 * as reprs. Anything else (an object's repr, a cut-off repr) stays the string it is.
 */
public final class PythonLiteral {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final String text;
  private int pos;

  private PythonLiteral(String text) {
    this.text = text;
  }

  /** The JSON value of the repr, or the repr as a JSON string when it is not a plain literal. */
  public static JsonNode parse(String repr) {
    try {
      PythonLiteral parser = new PythonLiteral(repr);
      JsonNode value = parser.value();
      parser.skipSpace();
      if (parser.pos == repr.length()) {
        return value;
      }
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      // not a plain literal
    }
    return NODES.stringNode(repr);
  }

  private JsonNode value() {
    skipSpace();
    char c = text.charAt(pos);
    if (c == '[' || c == '(') {
      return sequence(c == '[' ? ']' : ')');
    }
    if (c == '{') {
      return dict();
    }
    if (c == '\'' || c == '"') {
      return NODES.stringNode(string());
    }
    if (text.startsWith("None", pos)) {
      pos += 4;
      return NODES.nullNode();
    }
    if (text.startsWith("True", pos)) {
      pos += 4;
      return NODES.booleanNode(true);
    }
    if (text.startsWith("False", pos)) {
      pos += 5;
      return NODES.booleanNode(false);
    }
    return number();
  }

  private ArrayNode sequence(char close) {
    ArrayNode array = NODES.arrayNode();
    pos++;
    skipSpace();
    while (text.charAt(pos) != close) {
      array.add(value());
      skipSpace();
      if (text.charAt(pos) == ',') {
        pos++;
        skipSpace();
      } else if (text.charAt(pos) != close) {
        throw new IllegalArgumentException("expected , or " + close);
      }
    }
    pos++;
    return array;
  }

  private ObjectNode dict() {
    ObjectNode object = NODES.objectNode();
    pos++;
    skipSpace();
    while (text.charAt(pos) != '}') {
      JsonNode key = value();
      if (!key.isString()) {
        throw new IllegalArgumentException("only string keys map to JSON");
      }
      skipSpace();
      expect(':');
      object.set(key.stringValue(), value());
      skipSpace();
      if (text.charAt(pos) == ',') {
        pos++;
        skipSpace();
      } else if (text.charAt(pos) != '}') {
        throw new IllegalArgumentException("expected , or }");
      }
    }
    pos++;
    return object;
  }

  private String string() {
    char quote = text.charAt(pos++);
    StringBuilder out = new StringBuilder();
    while (text.charAt(pos) != quote) {
      char c = text.charAt(pos++);
      if (c != '\\') {
        out.append(c);
        continue;
      }
      char e = text.charAt(pos++);
      switch (e) {
        case 'n' -> out.append('\n');
        case 'r' -> out.append('\r');
        case 't' -> out.append('\t');
        case 'x' -> out.append(hex(2));
        case 'u' -> out.append(hex(4));
        case 'U' -> out.appendCodePoint(Integer.parseInt(text.substring(pos - 0, pos += 8), 16));
        default -> out.append(e);
      }
    }
    pos++;
    return out.toString();
  }

  private char hex(int digits) {
    char c = (char) Integer.parseInt(text.substring(pos, pos + digits), 16);
    pos += digits;
    return c;
  }

  private JsonNode number() {
    int start = pos;
    while (pos < text.length() && "+-0123456789.eE_".indexOf(text.charAt(pos)) >= 0) {
      pos++;
    }
    String n = text.substring(start, pos).replace("_", "");
    if (n.isEmpty()) {
      throw new IllegalArgumentException("not a literal");
    }
    if (n.matches("[+-]?\\d+")) {
      // The smallest node that holds it, as Jackson reads the same number from JSON.
      BigInteger value = new BigInteger(n);
      if (value.bitLength() < 32) {
        return NODES.numberNode(value.intValue());
      }
      return value.bitLength() < 64 ? NODES.numberNode(value.longValue()) : NODES.numberNode(value);
    }
    return NODES.numberNode(Double.parseDouble(n));
  }

  private void expect(char c) {
    if (text.charAt(pos++) != c) {
      throw new IllegalArgumentException("expected " + c);
    }
  }

  private void skipSpace() {
    while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
  }
}
