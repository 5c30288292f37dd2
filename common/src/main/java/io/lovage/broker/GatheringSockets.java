package io.lovage.broker;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.SocketFactory;

/**
 * The sockets of the publishing connection, whose writes one thread can gather and send in one
 * write: the publisher writes every message queued meanwhile, then sends them together. The AMQP
 * client flushes after each publish, so without this every message was a write of its own for the
 * producer and a read of its own for RabbitMQ, which then wakes per message.
 *
 * <p>Only the gathering thread's flushes wait: any other thread's flush (a heartbeat, a method on
 * another channel) sends what is gathered at once, in order. Plain TCP only: TLS sockets are made
 * by the TLS socket factory and are left as they are.
 */
final class GatheringSockets extends SocketFactory {
  private volatile Gathering latest;

  /**
   * Gathers the calling thread's writes on the newest socket until {@link Gathering#pause()} or
   * {@link Gathering#send()}; null while no socket was made yet.
   */
  Gathering gather() {
    Gathering stream = latest;
    if (stream != null) {
      stream.gather();
    }
    return stream;
  }

  @Override
  public Socket createSocket() {
    return new Socket() {
      private Gathering out;

      @Override
      public synchronized OutputStream getOutputStream() throws IOException {
        if (out == null) {
          out = new Gathering(super.getOutputStream());
          latest = out;
        }
        return out;
      }
    };
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return connected(new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
      throws IOException {
    return bound(new InetSocketAddress(localHost, localPort), new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    return connected(new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    return bound(
        new InetSocketAddress(localAddress, localPort), new InetSocketAddress(address, port));
  }

  private Socket connected(InetSocketAddress to) throws IOException {
    Socket socket = createSocket();
    socket.connect(to);
    return socket;
  }

  private Socket bound(InetSocketAddress local, InetSocketAddress to) throws IOException {
    Socket socket = createSocket();
    socket.bind(local);
    socket.connect(to);
    return socket;
  }

  /** A socket's output stream that keeps one thread's writes until it sends them. */
  static final class Gathering extends OutputStream {
    /** Sent before it grows past this, so a long run of publishes still streams out. */
    static final int MAX_GATHERED = 64 * 1024;

    private final OutputStream socket;
    private final ReentrantLock lock = new ReentrantLock();
    private final byte[] gathered = new byte[MAX_GATHERED];
    private int count;
    private Thread gatherer;

    Gathering(OutputStream socket) {
      this.socket = socket;
    }

    /** Keeps the calling thread's writes and flushes until {@link #send()}. */
    void gather() {
      lock.lock();
      try {
        gatherer = Thread.currentThread();
      } finally {
        lock.unlock();
      }
    }

    /**
     * Stops keeping the calling thread's flushes; what was gathered stays until the next write,
     * flush or {@link #send()}, whoever makes it.
     */
    void pause() {
      lock.lock();
      try {
        gatherer = null;
      } finally {
        lock.unlock();
      }
    }

    /** Sends what was gathered, in one write, and stops gathering. */
    void send() throws IOException {
      lock.lock();
      try {
        gatherer = null;
        sendGathered();
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      lock.lock();
      try {
        if (gatherer == null || len > MAX_GATHERED) {
          sendGathered();
          socket.write(b, off, len);
          return;
        }
        if (len > MAX_GATHERED - count) {
          sendGathered();
        }
        System.arraycopy(b, off, gathered, count, len);
        count += len;
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void flush() throws IOException {
      lock.lock();
      try {
        if (gatherer != Thread.currentThread()) {
          sendGathered();
          socket.flush();
        }
      } finally {
        lock.unlock();
      }
    }

    @Override
    public void close() throws IOException {
      lock.lock();
      try {
        sendGathered();
      } finally {
        lock.unlock();
        socket.close();
      }
    }

    private void sendGathered() throws IOException {
      if (count > 0) {
        int length = count;
        count = 0;
        socket.write(gathered, 0, length);
      }
    }
  }
}
