package io.lovage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.TaskMessage;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AnnotatedTasksTest {

  record Line(String sku, int quantity) {}

  static final class ShopTasks implements TaskModule {
    @TaskHandler("shop.total")
    BigDecimal total(List<Line> lines, BigDecimal unitPrice) {
      return unitPrice.multiply(BigDecimal.valueOf(lines.stream().mapToInt(Line::quantity).sum()));
    }

    @TaskHandler(
        value = "shop.label",
        kind = TaskKind.CPU,
        maxRetries = 7,
        timeLimit = 30,
        rateLimit = "100/m",
        rateScope = RateLimit.Scope.GLOBAL)
    String label(String sku, TaskCall call, int copies) {
      return sku + " x" + copies + " (" + call.id() + ")";
    }
  }

  private final TaskRegistry tasks = registry(new ShopTasks());

  @Test
  void annotatedMethodsAreRegisteredByNameWithTheirOptions() {
    assertEquals(List.of("shop.label", "shop.total"), tasks.names().stream().sorted().toList());
    TaskOptions label = tasks.find("shop.label").orElseThrow().options();
    assertEquals(TaskKind.CPU, label.kind());
    assertEquals(7, label.retry().maxRetries());
    assertEquals(java.time.Duration.ofSeconds(30), label.timeLimits().hard());
    assertEquals(RateLimit.parse("100/m").global(), label.rateLimit());
    assertEquals(RateLimit.NONE, tasks.find("shop.total").orElseThrow().options().rateLimit());
  }

  static final class ChargeTasks implements TaskModule {
    @TaskHandler(value = "shop.charge", concurrency = 2, concurrencyKey = "customer_id")
    void charge(TaskCall call, String order, String customer_id) {}

    @TaskHandler(value = "shop.export", concurrency = 1)
    void export() {}
  }

  @Test
  void aConcurrencyLimitFindsItsKeysPositionAmongTheParametersThatTakeArguments() {
    TaskRegistry charges = registry(new ChargeTasks());

    assertEquals(
        new ConcurrencyLimit(2, "customer_id", 1),
        charges.find("shop.charge").orElseThrow().options().concurrency());
    assertEquals(
        ConcurrencyLimit.of(1), charges.find("shop.export").orElseThrow().options().concurrency());
    assertEquals(
        ConcurrencyLimit.NONE, tasks.find("shop.total").orElseThrow().options().concurrency());
  }

  static final class BadRate implements TaskModule {
    @TaskHandler(value = "shop.spam", rateLimit = "10/d")
    void spam() {}
  }

  @Test
  void anInvalidRateLimitFailsRegistrationNamingTheTaskAndTheValue() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> registry(new BadRate()));

    assertTrue(e.getMessage().contains("shop.spam"), e.getMessage());
    assertTrue(e.getMessage().contains("'10/d'"), e.getMessage());
  }

  @Test
  void parametersBindByPositionOrByNameToTheirJavaTypes() throws Exception {
    Object byPosition =
        run(
            "shop.total",
            TaskMessage.builder("shop.total")
                .args(
                    List.of(Map.of("sku", "a", "quantity", 2), Map.of("sku", "b", "quantity", 3)),
                    "1.50")
                .build());
    Object byName =
        run(
            "shop.total",
            TaskMessage.builder("shop.total")
                .kwargs(Map.of("unitPrice", 2, "lines", List.of(Map.of("sku", "a", "quantity", 1))))
                .build());

    assertEquals(new BigDecimal("7.50"), byPosition);
    assertEquals(new BigDecimal("2"), byName);
  }

  @Test
  void taskCallParameterReceivesTheCallAndIsSkippedInPositions() throws Exception {
    TaskMessage message = TaskMessage.builder("shop.label").id("t-1").args("sku-9", 3).build();

    assertEquals("sku-9 x3 (t-1)", run("shop.label", message));
  }

  @Test
  void argumentsThatDoNotFitFailWithTheParametersName() {
    TaskArgumentException wrong =
        assertThrows(
            TaskArgumentException.class,
            () ->
                run("shop.label", TaskMessage.builder("shop.label").args("sku", "three").build()));
    TaskArgumentException missing =
        assertThrows(
            TaskArgumentException.class,
            () -> run("shop.label", TaskMessage.builder("shop.label").args("sku").build()));

    assertTrue(wrong.getMessage().contains("'copies'"), wrong.getMessage());
    assertTrue(
        missing.getMessage().contains("missing required argument: 'copies'"), missing.getMessage());
  }

  private Object run(String name, TaskMessage message) throws Exception {
    return tasks.find(name).orElseThrow().task().run(new TaskCall(message));
  }

  private static TaskRegistry registry(TaskModule module) {
    TaskRegistry.Builder builder = TaskRegistry.builder();
    module.register(builder);
    return builder.build();
  }
}
