package io.lovage.system.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The rules of a {@code .dockerignore}: patterns relative to the context root, {@code *} and {@code
 * ?} within one path element, {@code **} across any number of them, {@code !} to take a path back,
 * the last matching rule deciding. A rule that excludes a directory excludes all under it.
 */
public record DockerIgnore(List<Rule> rules) {

  record Rule(Pattern pattern, boolean exclude) {}

  public static DockerIgnore read(Path contextRoot) throws IOException {
    Path file = contextRoot.resolve(".dockerignore");
    return of(Files.exists(file) ? Files.readAllLines(file) : List.of());
  }

  /** The rules of these lines of a {@code .dockerignore}. */
  public static DockerIgnore of(List<String> lines) {
    List<Rule> rules = new ArrayList<>();
    for (String line : lines) {
      String text = line.strip();
      if (text.isEmpty() || text.startsWith("#")) {
        continue;
      }
      boolean exclude = !text.startsWith("!");
      String pattern = exclude ? text : text.substring(1).strip();
      rules.add(new Rule(regex(pattern), exclude));
    }
    return new DockerIgnore(List.copyOf(rules));
  }

  /** Whether the build context leaves out this path (relative to the context root). */
  public boolean excludes(Path relative) {
    String path = relative.toString().replace('\\', '/');
    boolean excluded = false;
    for (Rule rule : rules) {
      if (matchesItselfOrAParent(rule.pattern(), path)) {
        excluded = rule.exclude();
      }
    }
    return excluded;
  }

  private static boolean matchesItselfOrAParent(Pattern pattern, String path) {
    for (int end = path.indexOf('/'); end >= 0; end = path.indexOf('/', end + 1)) {
      if (pattern.matcher(path.substring(0, end)).matches()) {
        return true;
      }
    }
    return pattern.matcher(path).matches();
  }

  private static Pattern regex(String glob) {
    String clean = glob.replaceAll("^/+", "").replaceAll("/+$", "");
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < clean.length(); i++) {
      char c = clean.charAt(i);
      if (c == '*' && i + 1 < clean.length() && clean.charAt(i + 1) == '*') {
        // "**/" matches no element too: "**/target" matches "target".
        boolean slash = i + 2 < clean.length() && clean.charAt(i + 2) == '/';
        regex.append(slash ? "(?:.*/)?" : ".*");
        i += slash ? 2 : 1;
      } else if (c == '*') {
        regex.append("[^/]*");
      } else if (c == '?') {
        regex.append("[^/]");
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString());
  }
}
