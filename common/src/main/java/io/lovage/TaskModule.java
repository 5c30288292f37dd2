package io.lovage;

/**
 * A group of tasks that registers itself; the worker application finds every module and registers
 * its tasks at start-up.
 *
 * <pre>{@code
 * public final class BillingTasks implements TaskModule {
 *   public void register(TaskRegistry.Builder tasks) {
 *     tasks.register("billing.invoice", call -> invoice(call.arg(0, "orderId", String.class)));
 *   }
 * }
 * }</pre>
 */
@FunctionalInterface
public interface TaskModule {
  void register(TaskRegistry.Builder tasks);
}
