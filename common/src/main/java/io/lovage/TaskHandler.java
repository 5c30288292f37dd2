package io.lovage;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method as a task, registered under {@link #value()} by {@link
 * TaskRegistry.Builder#registerAnnotated}. Parameters are bound like Python's: by position from
 * {@code args}, or by name from {@code kwargs} (compile with {@code -parameters}), each converted
 * by Jackson to the parameter's type; a {@link TaskCall} parameter receives the call itself.
 *
 * <pre>{@code
 * public final class BillingTasks implements TaskModule {
 *   @TaskHandler("billing.invoice")
 *   public Invoice invoice(String orderId, BigDecimal amount, TaskCall call) { ... }
 *
 *   @TaskHandler(value = "billing.sms", rateLimit = "50/s", rateScope = RateLimit.Scope.GLOBAL)
 *   public void sms(String phone, String text) { ... }
 *
 *   @TaskHandler(value = "billing.charge", concurrency = 2, concurrencyKey = "customer_id")
 *   public void charge(String customer_id, BigDecimal amount) { ... }
 * }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface TaskHandler {
  /** The task's name, e.g. {@code billing.invoice}. */
  String value();

  /** The pool it runs in. */
  TaskKind kind() default TaskKind.IO;

  /** Exception types that retry by themselves (see {@link RetryPolicy}). */
  Class<? extends Throwable>[] retryOn() default {};

  /** Max retries, or -1 for the default ({@value RetryPolicy#DEFAULT_MAX_RETRIES}). */
  int maxRetries() default -1;

  /** Soft time limit in seconds, or 0 for none. */
  double softTimeLimit() default 0;

  /** Hard time limit in seconds, or 0 for the default. */
  double timeLimit() default 0;

  /**
   * How many of its tasks each worker starts at most, as Celery writes it: {@code "10/s"}, {@code
   * "100/m"}, {@code "1000/h"}; empty for no limit (see {@link RateLimit}). With {@link
   * #rateScope()} {@code GLOBAL}, how many the whole fleet starts.
   */
  String rateLimit() default "";

  /**
   * Who shares {@link #rateLimit()}: each worker by itself ({@code WORKER}, Celery's meaning), or
   * every worker of the fleet together ({@code GLOBAL}).
   */
  RateLimit.Scope rateScope() default RateLimit.Scope.WORKER;

  /**
   * How many of its tasks run at once across all workers, or per value of {@link
   * #concurrencyKey()}; 0 for no limit (see {@link ConcurrencyLimit}).
   */
  int concurrency() default 0;

  /**
   * The argument whose value has its own {@link #concurrency()} limit, e.g. {@code customer_id}:
   * the kwarg of that name, or the method's parameter of that name when passed by position; empty
   * for one limit per task name.
   */
  String concurrencyKey() default "";
}
