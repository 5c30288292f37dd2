package io.lovage;

import io.lovage.protocol.Json;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.time.Duration;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.JsonNode;

/** A {@link TaskHandler} method as a {@link Task}: arguments bound by position or name. */
final class MethodTask implements Task {
  private final Object target;
  private final Method method;
  private final Parameter[] parameters;
  private final JavaType[] types;

  private MethodTask(Object target, Method method) {
    this.target = target;
    this.method = method;
    this.parameters = method.getParameters();
    this.types = new JavaType[parameters.length];
    for (int i = 0; i < parameters.length; i++) {
      types[i] = Json.MAPPER.getTypeFactory().constructType(parameters[i].getParameterizedType());
    }
  }

  /** Registers every {@link TaskHandler} method of {@code target} with its options. */
  static void registerAll(Object target, TaskRegistry.Builder tasks) {
    for (Method method : target.getClass().getDeclaredMethods()) {
      TaskHandler handler = method.getAnnotation(TaskHandler.class);
      if (handler == null) {
        continue;
      }
      if (!method.trySetAccessible()) {
        throw new IllegalStateException("task method " + method + " is not accessible");
      }
      TaskOptions options;
      try {
        options = options(handler);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "task " + handler.value() + " (" + method + "): " + e.getMessage(), e);
      }
      tasks.register(
          handler.value(),
          new MethodTask(target, method),
          options.withConcurrency(concurrency(handler, method)));
    }
  }

  private static TaskOptions options(TaskHandler handler) {
    RetryPolicy retry = RetryPolicy.DEFAULT.withRetryOn(List.of(handler.retryOn()));
    if (handler.maxRetries() >= 0) {
      retry = retry.withMaxRetries(handler.maxRetries());
    }
    return TaskOptions.DEFAULT
        .withKind(handler.kind())
        .withRetry(retry)
        .withTimeLimits(
            TimeLimits.of(seconds(handler.softTimeLimit()), seconds(handler.timeLimit())))
        .withRateLimit(RateLimit.parse(handler.rateLimit()).withScope(handler.rateScope()));
  }

  /** The handler's concurrency limit, its key also found by position among the parameters. */
  private static ConcurrencyLimit concurrency(TaskHandler handler, Method method) {
    ConcurrencyLimit limit =
        new ConcurrencyLimit(handler.concurrency(), handler.concurrencyKey(), -1);
    int position = 0;
    for (java.lang.reflect.Parameter parameter : method.getParameters()) {
      if (parameter.getType() == TaskCall.class) {
        continue;
      }
      if (parameter.isNamePresent() && parameter.getName().equals(limit.key())) {
        return limit.atPosition(position);
      }
      position++;
    }
    return limit;
  }

  private static Duration seconds(double value) {
    return value > 0 ? Duration.ofMillis(Math.round(value * 1000)) : null;
  }

  @Override
  public Object run(TaskCall call) throws Exception {
    Object[] values = new Object[parameters.length];
    int position = 0;
    for (int i = 0; i < parameters.length; i++) {
      if (parameters[i].getType() == TaskCall.class) {
        values[i] = call;
        continue;
      }
      values[i] = bind(call, position++, i);
    }
    try {
      return method.invoke(target, values);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  private Object bind(TaskCall call, int position, int index) {
    String name = parameters[index].isNamePresent() ? parameters[index].getName() : null;
    JsonNode node = call.argNode(position, name);
    String label = name == null ? "#" + position : "'" + name + "'";
    if (node == null) {
      if (parameters[index].getType() == java.util.Optional.class) {
        return java.util.Optional.empty();
      }
      throw new TaskArgumentException(call.name() + "() missing required argument: " + label);
    }
    if (node.isNull() && parameters[index].getType().isPrimitive()) {
      throw new TaskArgumentException(call.name() + "() argument " + label + " must not be null");
    }
    try {
      return Json.MAPPER.treeToValue(node, types[index]);
    } catch (JacksonException | IllegalArgumentException e) {
      throw new TaskArgumentException(
          call.name()
              + "() argument "
              + label
              + " does not fit "
              + types[index].toCanonical()
              + ": "
              + (e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage()),
          e);
    }
  }
}
