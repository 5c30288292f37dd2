package io.lovage.system.image;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.system.image.ComposeFile.Service;
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
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The images docker-compose.yml builds, replayed without a Docker engine: for each service built
 * from a Dockerfile, the build stage gets exactly what the Dockerfile copies (read from the file)
 * in an empty directory and runs its own build command; the runtime stage's artifact must exist and
 * start the way its ENTRYPOINT starts it, against the test broker, until /health says UP.
 */
class DockerImagesIT {
  private static final Duration STARTUP = Duration.ofSeconds(90);
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  static Stream<String> builtServices() throws IOException {
    // One per Dockerfile: the cluster profile's apps are built from the same ones.
    return ComposeFile.read(ComposeFile.repository()).built().stream()
        .filter(s -> s.profiles().isEmpty())
        .map(Service::name);
  }

  @ParameterizedTest(name = "the {0} image builds from what its Dockerfile copies and starts")
  @MethodSource("builtServices")
  void anImageBuildsFromExactlyWhatItsDockerfileCopiesAndStartsHealthy(String name)
      throws Exception {
    Path repository = ComposeFile.repository();
    Service service = ComposeFile.read(repository).service(name);
    Path work = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "image-" + name);
    Path buildLog = work.resolve("build.log");
    ImageReplay image = new ImageReplay(repository, service.dockerfile().orElseThrow(), work);

    image.build(Map.of("JAVA_HOME", System.getProperty("java.home")), buildLog);

    // A jar of the user's own tasks, as an image FROM the worker's copies to /app/tasks/.
    Path tasks = ImageReplay.inImage(image.root(), "/app/tasks");
    String tasksJar = System.getProperty("lovage.example.tasks.jar");
    if (Files.isDirectory(tasks) && tasksJar != null) {
      Files.copy(
          Path.of(tasksJar),
          tasks.resolve("billing-tasks.jar"),
          StandardCopyOption.REPLACE_EXISTING);
    }
    String queue = RabbitFixture.uniqueQueue("image-" + name);
    int port = freePort();
    Map<String, String> env = new HashMap<>(service.environment());
    env.put("RABBITMQ_URI", RabbitFixture.uri());
    // The compose broker's users, secrets volume and imported topology are not here: the test
    // broker's own user (in its URI) declares what the image needs.
    env.remove("RABBITMQ_PASSWORD_FILE");
    env.remove("LOVAGE_TOPOLOGY");
    env.put("MICRONAUT_SERVER_PORT", String.valueOf(port));
    env.computeIfPresent("LOVAGE_QUEUES", (k, v) -> queue);
    Path log = work.resolve("run.log");
    ProcessBuilder run = new ProcessBuilder(image.entrypoint(System.getProperty("java.home")));
    run.directory(ImageReplay.inImage(image.root(), "/app").toFile());
    run.environment().putAll(env);
    Process process = run.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      Await.until(
          STARTUP,
          name + " started as its ENTRYPOINT says to report UP on /health (log " + log + ")",
          () -> {
            if (!process.isAlive()) {
              throw new AssertionError(
                  name + " exited with " + process.exitValue() + ", log " + log);
            }
            return health(port).contains("\"UP\"");
          });
      if (Files.isDirectory(tasks)) {
        assertTrue(
            Files.readString(log).contains("module=example.billing.BillingTasks"),
            "a jar in /app/tasks/ is on the classpath of the " + name + " (log " + log + ")");
      }
    } finally {
      process.destroy();
      if (!process.waitFor(40, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
      if (env.containsKey("LOVAGE_QUEUES")) {
        RabbitFixture.deleteTaskQueue(queue);
      }
    }
  }

  private static String health(int port) {
    try {
      HttpResponse<String> response =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200 ? response.body() : "";
    } catch (IOException e) {
      return "";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "";
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
