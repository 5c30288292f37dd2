package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.broker.LovageTopology;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/getting-started.md, walked as a newcomer walks it: the producer and worker jars started by
 * the guide's own command lines, then each of its curl commands run through bash, in order, and
 * compared with what the guide shows they print (see {@link RunnableGuide} for the markers and the
 * rules). Only the ports and the example task id are replaced: the test's processes listen on free
 * ports, and the id the guide shows stands for the one the submit really answered.
 *
 * <p>The guide runs the jars with {@code $JAVA_HOME/bin/java}, because the {@code java} on a fresh
 * Debian 12's {@code PATH} is Java 17, which cannot run them: here the {@code PATH} starts with a
 * {@code java} that fails as that one does, so a line that fell back to it would fail the test.
 *
 * <p>The guide uses the default queue {@code celery}; the test deletes it afterwards if it made it.
 */
class GettingStartedIT {
  private static final Path REPOSITORY =
      Path.of(System.getProperty("lovage.repository", "..")).toAbsolutePath().normalize();
  private static final Path GUIDE = REPOSITORY.resolve("docs/getting-started.md");
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration SETTLE = Duration.ofSeconds(30);
  private static final Pattern JAR = Pattern.compile("(\\S+\\.jar)");
  private static final Pattern HTTP_STATUS = Pattern.compile("(?m)^guide-http-status (\\d{3})$");
  private static final List<String> DEFAULT_QUEUES =
      List.of(
          LovageTopology.DEFAULT_QUEUE,
          LovageTopology.urgentLane(LovageTopology.DEFAULT_QUEUE),
          LovageTopology.deadLetterQueue(LovageTopology.DEFAULT_QUEUE),
          LovageTopology.brokerDeadLetterQueue(LovageTopology.DEFAULT_QUEUE));

  private static final List<AppProcess> started = new ArrayList<>();
  private static final List<String> queuesMadeHere = new ArrayList<>();
  private static AppProcess producer;
  private static AppProcess worker;
  private static Path curlHome;

  @BeforeAll
  static void startTheJarsAsTheGuideSays() throws IOException {
    DEFAULT_QUEUES.stream().filter(q -> !queueExists(q)).forEach(queuesMadeHere::add);
    Path java17 = Files.createTempDirectory(Path.of("target"), "java17-");
    Path fakeJava = java17.resolve("java");
    Files.writeString(
        fakeJava,
        """
        #!/bin/sh
        echo 'Error: LinkageError occurred while loading main class: UnsupportedClassVersionError \
        (class file version 65.0; this java runtime only recognizes up to 61.0): the java on PATH, \
        as on Debian 12, not $JAVA_HOME/bin/java' >&2
        exit 1
        """);
    assertTrue(fakeJava.toFile().setExecutable(true));
    Map<String, String> shell =
        Map.of(
            "JAVA_HOME",
            System.getProperty("java.home"),
            "PATH",
            java17.toAbsolutePath() + ":" + System.getenv("PATH"));
    for (RunnableGuide.Block block : blocks(RunnableGuide.Kind.START)) {
      for (RunnableGuide.Command command : block.commands()) {
        started.add(start(command.line(), shell));
      }
    }
    started.forEach(AppProcess::awaitHealthy);
    if (producer != null) {
      producer.awaitHistoryRead();
    }
    // curl reads its defaults from $CURL_HOME/.curlrc: the status of every request goes to stderr,
    // so the test sees it without changing the guide's command.
    curlHome = Files.createTempDirectory(Path.of("target"), "curl-");
    Files.writeString(
        curlHome.resolve(".curlrc"),
        "write-out = \"%{stderr}guide-http-status %{http_code}\\n\"\n");
  }

  @AfterAll
  static void stopTheJarsAndDeleteWhatTheyMade() {
    started.forEach(AppProcess::terminate);
    started.forEach(AppProcess::close);
    RabbitFixture.deleteQueues(queuesMadeHere.toArray(String[]::new));
  }

  @Test
  void theGuideStartsTheProducerAndAWorkerWithTheJdkOfJavaHomeNotTheJavaOnPath() {
    assertTrue(producer != null && producer.isAlive(), "the guide starts the producer jar");
    assertTrue(worker != null && worker.isAlive(), "the guide starts the worker jar");
    for (RunnableGuide.Block block : blocks(RunnableGuide.Kind.START)) {
      for (RunnableGuide.Command command : block.commands()) {
        assertTrue(
            command.line().startsWith("\"$JAVA_HOME/bin/java\" "),
            "runs the JDK that built the jars, not the java on PATH: " + command.line());
      }
    }
  }

  @Test
  void everyCommandTheGuideRunsSucceedsAndPrintsWhatTheGuideShows() {
    List<RunnableGuide.Block> blocks = blocks(RunnableGuide.Kind.RUN);
    assertFalse(blocks.isEmpty(), "the guide marks commands to run with <!-- ci: run -->");
    RunnableGuide.Ids ids = new RunnableGuide.Ids();
    int ran = 0;
    for (RunnableGuide.Block block : blocks) {
      for (RunnableGuide.Command command : block.commands()) {
        String line = ids.substitute(onTheTestsPorts(command.line()));
        String where = GUIDE.getFileName() + " block at line " + block.lineNumber() + ": " + line;
        // A read may come before the task has finished, as it may for a reader: it is run again
        // until it shows what the guide shows; a command that sends something runs once.
        boolean repeatable = !line.matches(".*\\s(-d|--data\\S*|-X|--request)\\s.*");
        AtomicReference<String> mismatch = new AtomicReference<>();
        Supplier<Optional<Run>> shownOrFailed =
            () -> {
              Run run = run(line);
              if (!run.succeeded(line)) {
                return Optional.of(run);
              }
              Optional<String> difference = RunnableGuide.mismatch(command.shown(), run.out(), ids);
              difference.ifPresent(mismatch::set);
              return difference.isPresent() ? Optional.empty() : Optional.of(run);
            };
        Run run;
        try {
          run =
              repeatable
                  ? Await.until(SETTLE, where, shownOrFailed)
                  : shownOrFailed.get().orElseThrow(() -> new AssertionError("mismatch"));
        } catch (AssertionError stillDifferent) {
          throw new AssertionError(
              where + "\ndoes not print what the guide shows: " + mismatch.get());
        }
        assertEquals(0, run.exit(), where + "\nexit " + run.exit() + ": " + run.stderr());
        for (int status : run.httpStatuses()) {
          assertEquals(2, status / 100, where + "\nHTTP " + status + ": " + run.out());
        }
        if (line.startsWith("curl ")) {
          assertFalse(run.httpStatuses().isEmpty(), where + ": no HTTP answer; " + run.stderr());
        }
        ran++;
      }
    }
    assertTrue(ran >= 3, "the guide runs at least a submit, a read and a health check: " + ran);
  }

  private static List<RunnableGuide.Block> blocks(RunnableGuide.Kind kind) {
    try {
      return RunnableGuide.read(GUIDE).stream().filter(b -> b.kind() == kind).toList();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + GUIDE, e);
    }
  }

  /** Starts one of the guide's lines: it must run the producer's or the worker's jar as built. */
  private static AppProcess start(String line, Map<String, String> shell) throws IOException {
    Matcher jar = JAR.matcher(line);
    assertTrue(jar.find(), "a line that starts a process names its jar: " + line);
    Path named = REPOSITORY.resolve(jar.group(1)).normalize();
    for (String kind : List.of("producer", "worker")) {
      Path built = Path.of(System.getProperty("lovage." + kind + ".jar"));
      if (Files.exists(named) && Files.isSameFile(named, built)) {
        AppProcess process =
            AppProcess.startCommandLine(kind, named.toString(), line, REPOSITORY, shell);
        if (kind.equals("producer")) {
          producer = process;
        } else {
          worker = process;
        }
        return process;
      }
    }
    throw new AssertionError("the guide starts " + named + ", which the build does not make");
  }

  private static String onTheTestsPorts(String line) {
    String result = line;
    if (producer != null) {
      result = result.replace("localhost:8080", "localhost:" + producer.port());
    }
    if (worker != null) {
      result = result.replace("localhost:8081", "localhost:" + worker.port());
    }
    return result;
  }

  private record Run(int exit, String out, String stderr) {
    /** Exited 0 and, if it made HTTP requests, each was answered 2xx. */
    boolean succeeded(String line) {
      return exit == 0
          && (!line.startsWith("curl ") || !httpStatuses().isEmpty())
          && httpStatuses().stream().allMatch(status -> status / 100 == 2);
    }

    List<Integer> httpStatuses() {
      return HTTP_STATUS.matcher(stderr).results().map(m -> Integer.parseInt(m.group(1))).toList();
    }
  }

  private static Run run(String line) {
    try {
      return runOrThrow(line);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Run runOrThrow(String line) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder("bash", "-c", line).directory(REPOSITORY.toFile());
    builder.environment().put("CURL_HOME", curlHome.toAbsolutePath().toString());
    Path out = Files.createTempFile(curlHome, "out-", ".txt");
    Path err = Files.createTempFile(curlHome, "err-", ".txt");
    Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!process.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
      process.destroyForcibly();
      return new Run(-1, "", "did not finish within " + COMMAND_TIMEOUT);
    }
    return new Run(
        process.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  private static boolean queueExists(String queue) {
    try {
      RabbitFixture.messagesReady(queue);
      return true;
    } catch (IllegalStateException missing) {
      return false;
    }
  }
}
