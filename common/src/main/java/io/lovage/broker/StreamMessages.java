package io.lovage.broker;

import com.rabbitmq.stream.Codec;
import com.rabbitmq.stream.MessageBuilder;
import com.rabbitmq.stream.Properties;
import com.rabbitmq.stream.codec.InternalCodec;
import io.netty.buffer.ByteBuf;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A message read over the stream protocol as the same {@link Message} an AMQP 0.9.1 consumer of the
 * stream gets: RabbitMQ stores what an AMQP 0.9.1 publisher sent as an AMQP 1.0 message, its
 * headers as application properties, content type, encoding, correlation id and reply-to as
 * properties, and priority and delivery mode in the header section (RabbitMQ 4.x) or as {@code
 * x-basic-*} message annotations (3.x), and (4.x) a publisher's {@code x-} headers as message
 * annotations too. Like the AMQP 0.9.1 consumer, it adds the {@code x-stream-offset} header (a
 * Long), which readers rely on.
 */
final class StreamMessages {
  private StreamMessages() {}

  /** Annotations RabbitMQ adds itself, not headers an AMQP 0.9.1 consumer would see. */
  private static final java.util.regex.Pattern RABBITMQ_ANNOTATIONS =
      java.util.regex.Pattern.compile("x-(exchange|routing-key|cc|stream-offset|basic-.*|opt-.*)");

  /** An AMQP 1.0 {@code header} section's descriptor: {@code 0x00 0x53 0x70}. */
  private static final int HEADER_DESCRIPTOR = 0x70;

  static Message message(com.rabbitmq.stream.Message received, long offset) {
    Map<String, Object> headers = new LinkedHashMap<>();
    Map<String, Object> properties = received.getApplicationProperties();
    if (properties != null) {
      properties.forEach((name, value) -> headers.put(name, value(value)));
    }
    headers.put("x-stream-offset", offset);
    Properties p = received.getProperties();
    Map<String, Object> annotations = received.getMessageAnnotations();
    Integer priority = null;
    boolean persistent = false;
    if (received instanceof WithHeader h) {
      priority = h.priority();
      persistent = h.durable();
    }
    if (annotations != null) {
      // RabbitMQ 4.x keeps a publisher's x- headers as message annotations, beside its own.
      annotations.forEach(
          (name, value) -> {
            if (name.startsWith("x-") && !RABBITMQ_ANNOTATIONS.matcher(name).matches()) {
              headers.putIfAbsent(name, value(value));
            }
          });
      if (annotations.get("x-basic-priority") instanceof Number n) {
        priority = n.intValue();
      }
      if (annotations.get("x-basic-delivery-mode") instanceof Number n) {
        persistent = n.intValue() == 2;
      }
    }
    return new Message(
        received.getBodyAsBinary(),
        headers,
        p == null ? null : p.getContentType(),
        p == null ? null : p.getContentEncoding(),
        p == null || p.getCorrelationId() == null ? null : String.valueOf(p.getCorrelationId()),
        p == null ? null : p.getReplyTo(),
        priority,
        persistent);
  }

  /** As {@link RabbitBroker#normalize} leaves a header value: AMQP 1.0's unsigned types as Long. */
  private static Object value(Object value) {
    if (value instanceof Number n
        && !(value instanceof Integer
            || value instanceof Long
            || value instanceof Double
            || value instanceof Float
            || value instanceof Short
            || value instanceof Byte
            || value instanceof java.math.BigDecimal)) {
      return n.longValue();
    }
    return value;
  }

  /** A delivery from a stream: nothing to settle, a stream keeps its messages whatever we do. */
  record StreamDelivery(String queue, Message message, AtomicBoolean settled) implements Delivery {
    @Override
    public long deliveryCount() {
      return 0;
    }

    @Override
    public void ack() {
      settled.set(true);
    }

    @Override
    public void reject() {
      settled.set(true);
    }

    @Override
    public void requeue() {
      settled.set(true);
    }

    @Override
    public boolean held() {
      return !settled.get();
    }
  }

  /**
   * The client's own decoder, plus the header section's durable and priority fields, which it
   * skips: a replayed dead letter keeps its priority and delivery mode.
   */
  static final class HeaderKeepingCodec implements Codec {
    private final Codec delegate = new InternalCodec();

    @Override
    public EncodedMessage encode(com.rabbitmq.stream.Message message) {
      return delegate.encode(message);
    }

    @Override
    public com.rabbitmq.stream.Message decode(ByteBuf buffer, int size) {
      int at = buffer.readerIndex();
      WithHeader header = header(buffer, at, size);
      com.rabbitmq.stream.Message decoded = delegate.decode(buffer, size);
      return header == null ? decoded : header.wrapping(decoded);
    }

    @Override
    public MessageBuilder messageBuilder() {
      return delegate.messageBuilder();
    }

    /**
     * The header section if the message starts with one: a described list whose first two fields
     * are durable (boolean) and priority (ubyte), either possibly null or absent.
     */
    static WithHeader header(ByteBuf b, int at, int size) {
      if (size < 4
          || b.getByte(at) != 0x00
          || b.getByte(at + 1) != 0x53
          || (b.getByte(at + 2) & 0xff) != HEADER_DESCRIPTOR) {
        return null;
      }
      int i = at + 3;
      int list = b.getByte(i++) & 0xff;
      int count;
      switch (list) {
        case 0x45 -> count = 0; // list0
        case 0xc0 -> {
          i++; // size
          count = b.getByte(i++) & 0xff;
        }
        case 0xd0 -> {
          i += 4;
          count = b.getInt(i);
          i += 4;
        }
        default -> {
          return null;
        }
      }
      boolean durable = false;
      Integer priority = null;
      if (count >= 1) {
        int code = b.getByte(i++) & 0xff;
        if (code == 0x41) {
          durable = true;
        } else if (code == 0x56) {
          durable = b.getByte(i++) != 0;
        } else if (code != 0x42 && code != 0x40) {
          return null;
        }
      }
      if (count >= 2) {
        int code = b.getByte(i++) & 0xff;
        if (code == 0x50) {
          priority = b.getByte(i) & 0xff;
        } else if (code != 0x40) {
          return null;
        }
      }
      return new WithHeader(null, durable, priority);
    }
  }

  /** A decoded message and what its header section said. */
  record WithHeader(com.rabbitmq.stream.Message delegate, boolean durable, Integer priority)
      implements com.rabbitmq.stream.Message {
    WithHeader wrapping(com.rabbitmq.stream.Message decoded) {
      return new WithHeader(decoded, durable, priority);
    }

    @Override
    public boolean hasPublishingId() {
      return delegate.hasPublishingId();
    }

    @Override
    public long getPublishingId() {
      return delegate.getPublishingId();
    }

    @Override
    public byte[] getBodyAsBinary() {
      return delegate.getBodyAsBinary();
    }

    @Override
    public Object getBody() {
      return delegate.getBody();
    }

    @Override
    public Properties getProperties() {
      return delegate.getProperties();
    }

    @Override
    public Map<String, Object> getApplicationProperties() {
      return delegate.getApplicationProperties();
    }

    @Override
    public Map<String, Object> getMessageAnnotations() {
      return delegate.getMessageAnnotations();
    }
  }
}
