package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** bin/lovage-workers: N worker JVMs on one machine, a dead one restarted, all stopped cleanly. */
class LauncherIT {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @Test
  void launcherRunsTwoWorkersRestartsOneThatDiesAndStopsThemOnSigterm() throws Exception {
    String queue = RabbitFixture.uniqueQueue("launcher");
    int base = freePortPair();
    Path log = Files.createTempFile(Path.of("target"), "launcher-", ".log");
    ProcessBuilder builder = new ProcessBuilder("bash", "../bin/lovage-workers", "2");
    builder.environment().put("RABBITMQ_URI", RabbitFixture.uri());
    builder.environment().put("LOVAGE_QUEUES", queue);
    builder.environment().put("LOVAGE_BASE_PORT", String.valueOf(base));
    builder.environment().put("LOVAGE_WORKER_JAR", System.getProperty("lovage.worker.jar"));
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Process launcher = builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      Await.until(
          WAIT, "two healthy workers (log " + log + ")", () -> healthy(base) && healthy(base + 1));

      long first = workerPid(log, 0);
      ProcessHandle.of(first).orElseThrow().destroyForcibly();
      Await.until(WAIT, "worker 0 restarted", () -> restartedPid(log) && healthy(base));

      launcher.destroy(); // SIGTERM
      assertTrue(launcher.waitFor(60, TimeUnit.SECONDS), "launcher did not stop");
      assertEquals(0, launcher.exitValue());
      assertTrue(
          !healthy(base) && !healthy(base + 1), "workers still running after the launcher stopped");
    } finally {
      launcher.destroyForcibly();
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  private static boolean restartedPid(Path log) {
    try {
      return Files.readString(log).contains("worker 0 pid=")
          && Files.readString(log).contains("exited, restarting");
    } catch (IOException e) {
      return false;
    }
  }

  private static long workerPid(Path log, int worker) throws IOException {
    Matcher m =
        Pattern.compile("worker " + worker + " started pid=(\\d+)").matcher(Files.readString(log));
    assertTrue(m.find(), "no pid in the launcher's log");
    return Long.parseLong(m.group(1));
  }

  private static boolean healthy(int port) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Two free consecutive ports (the launcher uses base and base + 1). */
  private static int freePortPair() throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int base;
      try (ServerSocket socket = new ServerSocket(0)) {
        base = socket.getLocalPort();
      }
      try (ServerSocket next = new ServerSocket(base + 1)) {
        return base;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no two free consecutive ports");
  }
}
