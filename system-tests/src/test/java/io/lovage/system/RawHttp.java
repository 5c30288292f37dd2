package io.lovage.system;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * HTTP/1.1 written byte by byte on a socket, for requests that {@link java.net.http.HttpClient}
 * refuses to send: control characters in header values and in the request target.
 */
final class RawHttp {
  private RawHttp() {}

  /** The status line and header lines of an answer, as sent. */
  record Response(int status, List<String> headerLines, String body) {
    /** Whether a header of this name came back (case-insensitive). */
    boolean has(String header) {
      String prefix = header.toLowerCase(Locale.ROOT) + ":";
      return headerLines.stream().anyMatch(h -> h.toLowerCase(Locale.ROOT).startsWith(prefix));
    }
  }

  /**
   * Sends {@code head} (request line and headers, CRLF-separated, without the blank line). The
   * request goes out in one write, and a server that refuses the head may close before it has read
   * the body: a write that fails then is not the answer, what the server sent before closing is.
   */
  static Response send(int port, String head, byte[] body) throws IOException {
    ByteArrayOutputStream request = new ByteArrayOutputStream();
    request.writeBytes(
        (head
                + "\r\nHost: localhost\r\nConnection: close\r\nContent-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
    request.writeBytes(body);
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout(30_000);
      IOException unsent = null;
      try {
        var out = socket.getOutputStream();
        out.write(request.toByteArray());
        out.flush();
      } catch (IOException e) {
        unsent = e;
      }
      byte[] answer;
      try {
        answer = readAll(socket.getInputStream());
      } catch (IOException e) {
        if (unsent != null) {
          e.addSuppressed(unsent);
        }
        throw e;
      }
      if (answer.length == 0 && unsent != null) {
        throw unsent;
      }
      return parse(answer);
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        all.write(buffer, 0, n);
      }
    } catch (IOException e) {
      // A timeout, or a reset by a server that closed with our body unread: the answer it sent
      // first is what counts.
      if (all.size() == 0) {
        throw e;
      }
    }
    return all.toByteArray();
  }

  private static Response parse(byte[] raw) throws IOException {
    String text = new String(raw, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    if (end < 0) {
      throw new IOException("no HTTP answer: " + text);
    }
    List<String> lines = new ArrayList<>(List.of(text.substring(0, end).split("\r\n")));
    String statusLine = lines.removeFirst();
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    return new Response(status, lines, text.substring(end + 4));
  }
}
