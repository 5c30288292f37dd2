package io.lovage.system;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy between a worker and RabbitMQ, to break the network between them: {@link #cut()}
 * resets every open connection at once, as a dead switch or a killed NAT entry does; {@link
 * #stall()} keeps them open but lets no byte through any more, as a network partition does, so only
 * heartbeats can tell. New connections are forwarded as usual either way.
 */
final class TcpProxy implements AutoCloseable {
  private final int targetPort;
  private final ServerSocket server;
  private final List<Link> links = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private volatile boolean closed;

  /** A client connection and its connection to the target. */
  private static final class Link {
    final Socket client;
    final Socket upstream;
    volatile boolean stalled;

    Link(Socket client, Socket upstream) {
      this.client = client;
      this.upstream = upstream;
    }
  }

  TcpProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread.ofPlatform().daemon().name("proxy-accept").start(this::acceptLoop);
  }

  int port() {
    return server.getLocalPort();
  }

  /** Connections accepted since the start: a reconnect shows here. */
  int accepted() {
    return accepted.get();
  }

  /** Connections currently forwarded (not stalled, not closed). */
  int open() {
    return (int) links.stream().filter(l -> !l.stalled && !l.client.isClosed()).count();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
        Link link = new Link(client, upstream);
        links.add(link);
        accepted.incrementAndGet();
        Thread.ofPlatform().daemon().start(() -> pump(link, client, upstream));
        Thread.ofPlatform().daemon().start(() -> pump(link, upstream, client));
      } catch (IOException e) {
        if (!closed) {
          System.err.println("[proxy] accept failed: " + e);
        }
      }
    }
  }

  /**
   * Copies bytes one way. A stalled link drops what it reads and stops passing on the end of the
   * stream too: neither side learns anything from the other any more.
   */
  private void pump(Link link, Socket from, Socket to) {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream()) {
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (!link.stalled) {
          out.write(buffer, 0, n);
          out.flush();
        }
      }
      if (!link.stalled) {
        close(link);
      }
    } catch (IOException e) {
      if (!link.stalled) {
        close(link);
      }
    }
  }

  /** Resets every open connection (RST to both sides); later connections work. */
  void cut() {
    for (Link link : links) {
      reset(link.client);
      reset(link.upstream);
      links.remove(link);
    }
  }

  /** Lets nothing through on the open connections any more, without closing them. */
  void stall() {
    links.forEach(link -> link.stalled = true);
  }

  private void close(Link link) {
    links.remove(link);
    closeQuietly(link.client);
    closeQuietly(link.upstream);
  }

  private static void reset(Socket socket) {
    try {
      socket.setSoLinger(true, 0);
    } catch (IOException e) {
      // already closed
    }
    closeQuietly(socket);
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // nothing left to close
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(server);
    for (Link link : links) {
      close(link);
    }
  }

  private static void closeQuietly(ServerSocket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // nothing left to close
    }
  }
}
