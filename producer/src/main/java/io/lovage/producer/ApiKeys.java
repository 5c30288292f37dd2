package io.lovage.producer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The API keys the producer accepts, kept as SHA-256 hashes: several at once, so a key can be
 * replaced without downtime, each with its scopes and a name for the logs.
 *
 * <p>A key file ({@code LOVAGE_API_KEYS_FILE}) has one key a line, {@code <sha256 hex of the key>
 * <scopes, comma-separated> <name>}, e.g. {@code 9f86d0…0f00a08 submit,read billing-service}; blank
 * lines and lines starting with {@code #} are skipped. Make a hash with {@code printf %s "$KEY" |
 * sha256sum}.
 */
record ApiKeys(List<ApiKeys.Key> keys) {

  /** One key: its name, the SHA-256 of its text, and what it may do. */
  record Key(String name, byte[] sha256, Set<ApiScope> scopes) {
    Key {
      scopes = Set.copyOf(scopes);
    }
  }

  ApiKeys {
    keys = List.copyOf(keys);
  }

  /** The one key of {@code LOVAGE_API_KEY}: every scope. */
  static Key single(String key) {
    return new Key("LOVAGE_API_KEY", sha256(key), EnumSet.allOf(ApiScope.class));
  }

  /**
   * The keys of a key file's text.
   *
   * @throws IllegalArgumentException naming the line that is not {@code <hash> <scopes> <name>}
   */
  static ApiKeys parse(String text, String source) {
    List<Key> keys = new ArrayList<>();
    String[] lines = text.split("\n");
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] fields = line.split("\\s+", 3);
      String where = source + " line " + (i + 1);
      if (fields.length < 3 || !fields[0].matches("[0-9a-fA-F]{64}")) {
        throw new IllegalArgumentException(
            where
                + " is not '<sha256 hex of the key> <scopes> <name>',"
                + " e.g. '<64 hex digits> submit,read billing'");
      }
      Set<ApiScope> scopes = EnumSet.noneOf(ApiScope.class);
      for (String scope : fields[1].split(",")) {
        try {
          scopes.add(ApiScope.parse(scope));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
      }
      keys.add(new Key(fields[2].strip(), HexFormat.of().parseHex(fields[0]), scopes));
    }
    return new ApiKeys(keys);
  }

  ApiKeys with(Key key) {
    List<Key> more = new ArrayList<>(keys);
    more.add(key);
    return new ApiKeys(more);
  }

  /**
   * The key whose hash is the presented text's, comparing every key's hash in constant time so the
   * time taken does not tell which bytes matched.
   */
  Optional<Key> match(String presented) {
    byte[] hash = sha256(presented);
    Key found = null;
    for (Key key : keys) {
      if (MessageDigest.isEqual(hash, key.sha256()) && found == null) {
        found = key;
      }
    }
    return Optional.ofNullable(found);
  }

  static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }
}
