package io.lovage.jmh;

import io.lovage.broker.Message;
import io.lovage.protocol.MalformedMessageException;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Encoding and decoding a typical task message (Celery protocol v2, JSON). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBenchmark {
  private final TaskMessage task =
      TaskMessage.builder("billing.invoice")
          .args(42, "EUR", 19.99)
          .kwargs(Map.of("customer", "c-1234", "lines", 3))
          .build();
  private final Message encoded = TaskMessageCodec.encode(task);

  @Benchmark
  public Message encode() {
    return TaskMessageCodec.encode(task);
  }

  @Benchmark
  public TaskMessage decode() throws MalformedMessageException {
    return TaskMessageCodec.decode(encoded);
  }
}
