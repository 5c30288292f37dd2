package io.lovage.broker;

/** The broker could not do what was asked: connect, declare, consume. */
public class BrokerException extends RuntimeException {
  public BrokerException(String message) {
    super(message);
  }

  public BrokerException(String message, Throwable cause) {
    super(message, cause);
  }
}
