package io.lovage.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A redis-server of the bench's own, on a free port of localhost, for Celery's result backend in
 * the workflow rows: nothing saved to disk, stopped with the bench's other processes (Debian's
 * redis-server; {@code bench/run.sh} installs it).
 */
final class RedisServer {
  static final String COMMAND =
      System.getenv().getOrDefault("BENCH_REDIS_SERVER", "/usr/bin/redis-server");

  private static final Duration STARTUP = Duration.ofSeconds(20);

  private final Processes.Child child;
  private final int port;

  private RedisServer(Processes.Child child, int port) {
    this.child = child;
    this.port = port;
  }

  static RedisServer start(BenchContext ctx) {
    if (!Files.isExecutable(Path.of(COMMAND))) {
      throw new IllegalStateException(
          "no "
              + COMMAND
              + ": install redis-server and python3-redis (bench/run.sh does), or set"
              + " BENCH_REDIS_SERVER");
    }
    int port = LovageApp.freePort();
    Path dir = ctx.repo().resolve("bench/target/redis");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalStateException("cannot create " + dir + ": " + e, e);
    }
    Processes.Child child =
        ctx.processes()
            .start(
                "redis",
                List.of(
                    COMMAND,
                    "--port",
                    String.valueOf(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    dir.toString()),
                Map.of(),
                dir);
    RedisServer redis = new RedisServer(child, port);
    redis.awaitPong();
    return redis;
  }

  private void awaitPong() {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!child.isAlive()) {
        throw new IllegalStateException(
            "redis-server exited at start; its log " + child.log() + ":\n" + child.tail(20));
      }
      if (answersPing()) {
        return;
      }
      Pause.millis(100);
    }
    throw new IllegalStateException(
        "redis-server did not answer PING within " + STARTUP + "; its log " + child.log());
  }

  private boolean answersPing() {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(1_000);
      socket.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      var reader =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
      return "+PONG".equals(reader.readLine());
    } catch (IOException e) {
      return false; // not listening yet
    }
  }

  /** The URL Celery's {@code backend} takes: database 0 of this server. */
  String url() {
    return "redis://127.0.0.1:" + port + "/0";
  }

  void stop(BenchContext ctx) {
    ctx.processes().stop(child);
  }
}
