package io.lovage.broker;

/** A message was not confirmed by the broker; it must be taken as not sent. */
public final class PublishException extends BrokerException {
  /** Why a publish failed. */
  public enum Reason {
    /** No queue is bound for the routing key (basic.return of a mandatory publish). */
    UNROUTABLE,
    /** The broker refused it (basic.nack), e.g. a queue at its length limit with reject-publish. */
    NACKED,
    /** No confirm arrived in time, e.g. the broker is blocked by a memory or disk alarm. */
    TIMEOUT,
    /** The connection or channel closed before the confirm. */
    CONNECTION_LOST
  }

  private final Reason reason;

  public PublishException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public PublishException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
