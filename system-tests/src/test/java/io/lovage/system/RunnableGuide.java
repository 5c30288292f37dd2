package io.lovage.system;

import io.lovage.protocol.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;

/**
 * The shell blocks of a Markdown guide that CI runs, and what the guide shows they print.
 *
 * <p>A fenced {@code sh} block right after the line {@code <!-- ci: start -->} starts one
 * long-running process per line; one right after {@code <!-- ci: run -->} holds commands to run in
 * order. Under a command, lines starting with {@code #} are what it prints: for {@code curl -i} the
 * status line, the headers worth showing, an empty {@code #} line, then the body. Other blocks are
 * for the reader only.
 *
 * <p>What the guide shows is compared in substance ({@link #mismatch}): a JSON body must have the
 * same fields with the same values, but where the guide shows a task id (a UUID), a time (ISO-8601)
 * or a worker's name ({@code lovage-<pid>@<host>}) any such value matches. A task id the guide
 * shows stands for the one the command really answered, from its first appearance on: later
 * commands that type it get the real one ({@link Ids}).
 */
final class RunnableGuide {
  private static final Pattern MARKER = Pattern.compile("<!-- ci: (start|run) -->");
  private static final Pattern UUID =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  private static final Pattern INSTANT =
      Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");
  private static final Pattern WORKER_NAME = Pattern.compile("lovage-\\d+@[\\w.-]+");
  private static final Pattern VARYING =
      Pattern.compile(UUID.pattern() + "|" + INSTANT.pattern() + "|" + WORKER_NAME.pattern());
  private static final Pattern STATUS_LINE = Pattern.compile("HTTP/[\\d.]+ (\\d{3}).*");

  enum Kind {
    START,
    RUN
  }

  /** A command as the guide writes it, with the lines the guide shows it prints (maybe none). */
  record Command(String line, List<String> shown) {}

  record Block(Kind kind, int lineNumber, List<Command> commands) {}

  private RunnableGuide() {}

  static List<Block> read(Path markdown) throws IOException {
    List<String> lines = Files.readAllLines(markdown);
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i + 1 < lines.size(); i++) {
      Matcher marker = MARKER.matcher(lines.get(i).strip());
      if (!marker.matches()) {
        continue;
      }
      if (!lines.get(i + 1).strip().equals("```sh")) {
        throw new IllegalStateException(
            markdown + ":" + (i + 1) + ": a ci marker must be followed at once by a ```sh block");
      }
      List<Command> commands = new ArrayList<>();
      int at = i + 2;
      for (; at < lines.size() && !lines.get(at).strip().equals("```"); at++) {
        String line = lines.get(at);
        if (line.startsWith("#")) {
          if (commands.isEmpty()) {
            throw new IllegalStateException(
                markdown + ":" + (at + 1) + ": output before a command");
          }
          commands.getLast().shown().add(line.length() > 1 ? line.substring(2) : "");
        } else if (!line.isBlank()) {
          commands.add(new Command(line.strip(), new ArrayList<>()));
        }
      }
      blocks.add(
          new Block(Kind.valueOf(marker.group(1).toUpperCase()), i + 1, List.copyOf(commands)));
      i = at;
    }
    return blocks;
  }

  /**
   * The task ids the guide shows, each bound to the one a command really answered when it first
   * printed it.
   */
  static final class Ids {
    private final Map<String, String> real = new java.util.LinkedHashMap<>();

    /** The command with every id bound so far replaced by the real one. */
    String substitute(String command) {
      String result = command;
      for (Map.Entry<String, String> id : real.entrySet()) {
        result = result.replace(id.getKey(), id.getValue());
      }
      return result;
    }
  }

  /**
   * How {@code output} (what the command printed, headers with CRLF as curl prints them) differs in
   * substance from what the guide shows, or empty when it does not; binds the ids it meets.
   */
  static Optional<String> mismatch(List<String> shown, String output, Ids ids) {
    if (shown.isEmpty()) {
      return Optional.empty();
    }
    List<String> actual = List.of(output.replace("\r\n", "\n").split("\n", -1));
    int shownAt = 0;
    int actualAt = 0;
    Map<String, String> bound = new java.util.HashMap<>(ids.real);
    Matcher expectedStatus = STATUS_LINE.matcher(shown.getFirst());
    if (expectedStatus.matches()) {
      Matcher status = STATUS_LINE.matcher(actual.getFirst());
      if (!status.matches() || !status.group(1).equals(expectedStatus.group(1))) {
        return Optional.of("status: shown " + shown.getFirst() + ", got " + actual.getFirst());
      }
      List<String> headers = new ArrayList<>();
      for (actualAt = 1; actualAt < actual.size() && !actual.get(actualAt).isBlank(); actualAt++) {
        headers.add(actual.get(actualAt));
      }
      actualAt++;
      for (shownAt = 1; shownAt < shown.size() && !shown.get(shownAt).isBlank(); shownAt++) {
        String header = shown.get(shownAt);
        String name = header.substring(0, header.indexOf(':') + 1);
        String value = header.substring(name.length()).strip();
        Optional<String> match =
            headers.stream()
                .filter(h -> h.regionMatches(true, 0, name, 0, name.length()))
                .filter(h -> matches(value, h.substring(name.length()).strip(), bound))
                .findFirst();
        if (match.isEmpty()) {
          return Optional.of("header: shown " + header + ", got " + headers);
        }
      }
      shownAt++;
    }
    String shownBody =
        String.join("", shown.subList(Math.min(shownAt, shown.size()), shown.size()));
    String body =
        String.join("\n", actual.subList(Math.min(actualAt, actual.size()), actual.size())).strip();
    Optional<String> difference;
    try {
      difference =
          difference("", Json.MAPPER.readTree(shownBody), Json.MAPPER.readTree(body), bound);
    } catch (JacksonException notJson) {
      difference =
          matches(shownBody.strip(), body, bound)
              ? Optional.empty()
              : Optional.of("shown " + shownBody + ", got " + body);
    }
    if (difference.isEmpty()) {
      ids.real.putAll(bound);
    }
    return difference.map(d -> d + " (the whole output: " + output.strip() + ")");
  }

  private static Optional<String> difference(
      String path, JsonNode shown, JsonNode actual, Map<String, String> bound) {
    if (shown.isObject() && actual.isObject()) {
      if (!new TreeSet<>(shown.propertyNames()).equals(new TreeSet<>(actual.propertyNames()))) {
        return Optional.of(
            path + ": fields shown " + shown.propertyNames() + ", got " + actual.propertyNames());
      }
      for (String field : shown.propertyNames()) {
        Optional<String> inside =
            difference(path + "/" + field, shown.get(field), actual.get(field), bound);
        if (inside.isPresent()) {
          return inside;
        }
      }
      return Optional.empty();
    }
    if (shown.isArray() && actual.isArray() && shown.size() == actual.size()) {
      for (int i = 0; i < shown.size(); i++) {
        Optional<String> inside = difference(path + "/" + i, shown.get(i), actual.get(i), bound);
        if (inside.isPresent()) {
          return inside;
        }
      }
      return Optional.empty();
    }
    if (shown.isString() && actual.isString()) {
      return matches(shown.asString(), actual.asString(), bound)
          ? Optional.empty()
          : Optional.of(path + ": shown " + shown + ", got " + actual);
    }
    return shown.equals(actual)
        ? Optional.empty()
        : Optional.of(path + ": shown " + shown + ", got " + actual);
  }

  /**
   * Whether {@code actual} is {@code shown} but for its varying parts (ids, times, worker names);
   * binds the ids it meets for the first time.
   */
  static boolean matches(String shown, String actual, Map<String, String> bound) {
    StringBuilder regex = new StringBuilder();
    List<String> shownIds = new ArrayList<>();
    Matcher varying = VARYING.matcher(shown);
    int at = 0;
    while (varying.find()) {
      regex.append(Pattern.quote(shown.substring(at, varying.start())));
      String part = varying.group();
      if (UUID.matcher(part).matches()) {
        regex.append("(").append(UUID.pattern()).append(")");
        shownIds.add(part);
      } else if (INSTANT.matcher(part).matches()) {
        regex.append("(?:").append(INSTANT.pattern()).append(")");
      } else {
        regex.append("(?:").append(WORKER_NAME.pattern()).append(")");
      }
      at = varying.end();
    }
    regex.append(Pattern.quote(shown.substring(at)));
    Matcher match = Pattern.compile(regex.toString()).matcher(actual);
    if (!match.matches()) {
      return false;
    }
    for (int i = 0; i < shownIds.size(); i++) {
      String real = bound.putIfAbsent(shownIds.get(i), match.group(i + 1));
      if (real != null && !real.equals(match.group(i + 1))) {
        return false;
      }
    }
    return true;
  }
}
