package example.billing;

import io.lovage.TaskCall;
import io.lovage.TaskHandler;
import io.lovage.TaskKind;
import io.lovage.TaskModule;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.List;

/**
 * Tasks of a billing service, packaged in their own jar. Listed in
 * META-INF/services/io.lovage.TaskModule, so a worker with this jar on its classpath runs them.
 */
public final class BillingTasks implements TaskModule {

  /** One line of an order. */
  public record Line(String sku, int quantity, BigDecimal unitPrice) {}

  /** What {@code billing.invoice} answers. */
  public record Invoice(String orderId, BigDecimal net, BigDecimal vat, BigDecimal total) {}

  @TaskHandler("billing.invoice")
  public Invoice invoice(String orderId, List<Line> lines, BigDecimal vatRate, TaskCall call) {
    BigDecimal net = BigDecimal.ZERO;
    for (int i = 0; i < lines.size(); i++) {
      Line line = lines.get(i);
      net = net.add(line.unitPrice().multiply(BigDecimal.valueOf(line.quantity())));
      call.progress(i + 1, lines.size());
    }
    BigDecimal vat = net.multiply(vatRate).setScale(2, RoundingMode.HALF_UP);
    return new Invoice(orderId, net, vat, net.add(vat));
  }

  @TaskHandler(value = "billing.checksum", kind = TaskKind.CPU)
  public long checksum(String text, int rounds) {
    long hash = 1125899906842597L;
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < text.length(); i++) {
        hash = 31 * hash + text.charAt(i);
      }
    }
    return hash;
  }
}
