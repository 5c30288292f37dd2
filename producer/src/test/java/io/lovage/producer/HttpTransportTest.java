package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.inject.qualifiers.Qualifiers;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandler;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Locale;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Which Netty transport the REST service's HTTP server runs on. */
class HttpTransportTest {
  @RegisterExtension static final InMemoryProducer producer = new InMemoryProducer();

  @Test
  void onLinuxTheHttpServerAcceptsAndAnswersOnNettysNativeEpollTransport()
      throws IOException, InterruptedException, ClassNotFoundException {
    String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch");
    Assumptions.assumeTrue(
        os.contains("linux") && (arch.equals("amd64") || arch.equals("aarch64")),
        "the jar carries epoll for Linux on x86_64 and aarch64 only");

    EventLoopGroup loops =
        producer
            .server()
            .getApplicationContext()
            .getBean(EventLoopGroup.class, Qualifiers.byName("default"));
    Class<? extends IoHandler> epoll =
        Class.forName("io.netty.channel.epoll.EpollIoHandler").asSubclass(IoHandler.class);
    assertTrue(
        loops instanceof IoEventLoopGroup io && io.isIoType(epoll),
        "the default event loops run " + loops);

    // Accepting runs on the parent loop: it must agree with the connections' transport.
    HttpResponse<String> health =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(producer.uri("/health")).build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(200, health.statusCode(), health.body());
  }
}
