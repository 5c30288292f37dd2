package io.lovage.system.image;

import io.lovage.protocol.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Dockerfile read the way BuildKit reads the parts Lovage uses: comments, line continuations,
 * stages ({@code FROM … AS name}), and instructions with {@code --flag=value} options and shell or
 * JSON (exec) arguments. Enough to replay a build without a Docker engine, not a general parser.
 */
public record Dockerfile(Path file, List<Stage> stages) {
  private static final Pattern FLAG = Pattern.compile("--([a-z-]+)(?:=(\\S+))?");

  /** One instruction: {@code COPY --from=build /src/a.jar /app/app.jar}. */
  public record Instruction(String keyword, Map<String, String> flags, String arguments) {
    /** The arguments split as Docker does: a JSON array (exec form), else on whitespace. */
    public List<String> words() {
      String trimmed = arguments.strip();
      if (trimmed.startsWith("[")) {
        List<String> words = new ArrayList<>();
        Json.MAPPER.readTree(trimmed).forEach(word -> words.add(word.asString()));
        return words;
      }
      return List.of(trimmed.split("\\s+"));
    }
  }

  /** A build stage: its name (or its index), its base image and its instructions in order. */
  public record Stage(String name, String image, List<Instruction> instructions) {
    public List<Instruction> all(String keyword) {
      return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
    }

    public Optional<Instruction> last(String keyword) {
      List<Instruction> found = all(keyword);
      return found.isEmpty() ? Optional.empty() : Optional.of(found.getLast());
    }

    /** The stage's WORKDIR (the last one; Lovage's Dockerfiles set one absolute WORKDIR). */
    public String workdir() {
      return last("WORKDIR").map(i -> i.arguments().strip()).orElse("/");
    }
  }

  public static Dockerfile read(Path file) throws IOException {
    List<Stage> stages = new ArrayList<>();
    List<Instruction> current = null;
    for (String line : logicalLines(Files.readAllLines(file))) {
      Instruction instruction = instruction(line);
      if (instruction.keyword().equals("FROM")) {
        List<String> words = instruction.words();
        String name =
            words.size() >= 3 && words.get(1).equalsIgnoreCase("AS")
                ? words.get(2)
                : String.valueOf(stages.size());
        current = new ArrayList<>();
        stages.add(new Stage(name, words.getFirst(), current));
      } else if (current == null) {
        throw new IllegalArgumentException(file + ": " + instruction.keyword() + " before FROM");
      } else {
        current.add(instruction);
      }
    }
    return new Dockerfile(
        file,
        stages.stream()
            .map(s -> new Stage(s.name(), s.image(), List.copyOf(s.instructions())))
            .toList());
  }

  public Stage stage(String name) {
    return stages.stream()
        .filter(s -> s.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException(file + " has no stage " + name));
  }

  /** The stage the image is made of: the last one. */
  public Stage runtime() {
    return stages.getLast();
  }

  /** Joins continuation lines and drops comments and blank lines. */
  private static List<String> logicalLines(List<String> physical) {
    List<String> logical = new ArrayList<>();
    StringBuilder pending = new StringBuilder();
    for (String line : physical) {
      String stripped = line.strip();
      if (stripped.startsWith("#") || (stripped.isEmpty() && pending.isEmpty())) {
        continue;
      }
      if (stripped.endsWith("\\")) {
        pending.append(stripped, 0, stripped.length() - 1).append(' ');
        continue;
      }
      pending.append(stripped);
      logical.add(pending.toString());
      pending.setLength(0);
    }
    if (!pending.isEmpty()) {
      logical.add(pending.toString());
    }
    return logical;
  }

  private static Instruction instruction(String line) {
    String[] parts = line.split("\\s+", 2);
    String keyword = parts[0].toUpperCase(Locale.ROOT);
    String rest = parts.length > 1 ? parts[1] : "";
    Map<String, String> flags = new LinkedHashMap<>();
    while (rest.startsWith("--")) {
      String[] flagAndRest = rest.split("\\s+", 2);
      Matcher flag = FLAG.matcher(flagAndRest[0]);
      if (!flag.matches()) {
        break;
      }
      flags.merge(flag.group(1), flag.group(2) == null ? "" : flag.group(2), (a, b) -> a + "," + b);
      rest = flagAndRest.length > 1 ? flagAndRest[1] : "";
    }
    return new Instruction(keyword, Map.copyOf(flags), rest);
  }
}
