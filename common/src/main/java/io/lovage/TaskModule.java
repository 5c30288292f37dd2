package io.lovage;

/**
 * A group of tasks that registers itself. The worker application registers every module it finds at
 * start-up: Micronaut beans, and classes named in {@code META-INF/services/io.lovage.TaskModule} of
 * any jar on its classpath (so tasks come in a jar of their own, without editing Lovage).
 *
 * <pre>{@code
 * public final class BillingTasks implements TaskModule {
 *   @TaskHandler("billing.invoice")
 *   public Invoice invoice(String orderId, BigDecimal amount) { ... }
 * }
 * }</pre>
 *
 * <p>By default a module registers its {@link TaskHandler} methods; override {@link #register} to
 * register lambdas instead.
 */
public interface TaskModule {
  default void register(TaskRegistry.Builder tasks) {
    tasks.registerAnnotated(this);
  }
}
