package io.lovage.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class WrkResultTest {
  private static final String OUTPUT =
      """
      Running 8s test @ http://127.0.0.1:40123/tasks
        2 threads and 64 connections
        Thread Stats   Avg      Stdev     Max   +/- Stdev
          Latency    10.33ms    5.05ms  61.96ms   79.32%
          Req/Sec     3.14k   309.63     3.85k    70.00%
        Latency Distribution
           50%  950.00us
           75%   12.36ms
           90%   16.28ms
           99%    1.20s
        50000 requests in 8.00s, 6.91MB read
        Socket errors: connect 0, read 1, write 0, timeout 2
        Non-2xx or 3xx responses: 7
      Requests/sec:   6250.00
      Transfer/sec:    884.12KB
      """;

  @Test
  void readsRequestsFailuresAndPercentilesInAnyUnit() {
    WrkResult result = WrkResult.parse(OUTPUT);

    assertEquals(50_000, result.requests());
    assertEquals(8.0, result.seconds(), 1e-9);
    assertEquals(10, result.failed());
    assertEquals(0.95, result.p50Millis(), 1e-9);
    assertEquals(1_200, result.p99Millis(), 1e-9);
    assertEquals((50_000 - 10) / 8.0, result.okPerSecond(), 1e-9);
  }

  @Test
  void outputWithoutATotalIsAnError() {
    assertThrows(IllegalStateException.class, () -> WrkResult.parse("unable to connect"));
  }
}
