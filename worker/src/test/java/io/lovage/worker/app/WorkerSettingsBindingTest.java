package io.lovage.worker.app;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lovage.ConcurrencyLimit;
import io.lovage.worker.WorkerSettings;
import io.micronaut.context.ApplicationContext;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerSettingsBindingTest {

  @Test
  void concurrencyLimitsBindBesideTheConcurrencyAliasWithoutDisturbingIt() {
    try (ApplicationContext context =
        ApplicationContext.run(
            Map.of("lovage.concurrency.limits", "billing.charge=2:customer_id"))) {
      WorkerSettings settings = context.getBean(WorkerSettings.class);

      assertEquals(
          Map.of("billing.charge", ConcurrencyLimit.perKey(2, "customer_id")),
          settings.concurrencyLimits());
      assertEquals(WorkerSettings.DEFAULT_IO_CONCURRENCY, settings.ioConcurrency());
    }
  }
}
