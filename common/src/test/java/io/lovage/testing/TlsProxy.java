package io.lovage.testing;

import io.lovage.security.TlsSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLServerSocket;

/**
 * A TLS listener in front of a plain one of the test broker (AMQP, stream protocol, management), as
 * RabbitMQ's own TLS listeners would be: it shows a certificate, optionally asks for the client's,
 * and passes the decrypted bytes on. Another proxy can take over its port after it closes, as when
 * a broker's certificate is replaced.
 */
public final class TlsProxy implements AutoCloseable {
  private final String targetHost;
  private final int targetPort;
  private final ServerSocket listener;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  /**
   * @param server the certificate and key shown, and the CA that client certificates must chain to
   * @param clientCertificateRequired whether a client without a trusted certificate is refused
   * @param port where it listens; 0 for any free port
   */
  public TlsProxy(
      TestCertificates.Signer server,
      TestCertificates.Signer clientCa,
      boolean clientCertificateRequired,
      String targetHost,
      int targetPort,
      int port) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    try {
      SSLServerSocket socket =
          (SSLServerSocket)
              new TlsSettings(clientCa.certificate(), server.certificate(), server.key(), false)
                  .sslContext()
                  .getServerSocketFactory()
                  .createServerSocket();
      socket.setNeedClientAuth(clientCertificateRequired);
      socket.setReuseAddress(true);
      socket.bind(new InetSocketAddress("127.0.0.1", port));
      this.listener = socket;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Thread.ofVirtual().name("tls-proxy-" + port()).start(this::accept);
  }

  public int port() {
    return listener.getLocalPort();
  }

  /** Closes every connection through it (the listener stays), as a network blip would. */
  public void dropConnections() {
    open.forEach(TlsProxy::closeQuietly);
    open.clear();
  }

  private void accept() {
    while (!closed) {
      try {
        Socket client = listener.accept();
        Thread.ofVirtual().start(() -> connect(client));
      } catch (IOException e) {
        if (closed) {
          return;
        }
      }
    }
  }

  private void connect(Socket client) {
    try {
      // The handshake happens here: a client that does not trust us, or that we do not trust,
      // fails it and never reaches the broker.
      ((javax.net.ssl.SSLSocket) client).startHandshake();
      Socket target = new Socket(targetHost, targetPort);
      open.add(client);
      open.add(target);
      Thread.ofVirtual().start(() -> pump(client, target));
      pump(target, client);
    } catch (IOException e) {
      closeQuietly(client);
    }
  }

  private void pump(Socket from, Socket to) {
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      byte[] buffer = new byte[16 * 1024];
      int read;
      while ((read = in.read(buffer)) >= 0) {
        out.write(buffer, 0, read);
        out.flush();
      }
    } catch (IOException e) {
      // one side went away: close both below
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    dropConnections();
  }

  private static void closeQuietly(ServerSocket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // already closed
    }
  }
}
