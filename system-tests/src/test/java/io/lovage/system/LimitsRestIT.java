package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.RabbitFixture;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * /limits over REST with one producer and one worker: a rate put there holds the task on the worker
 * while another task runs; deleting it lets the held ones finish.
 */
class LimitsRestIT {
  @Test
  void aRatePutOverRestHoldsTheTaskOnTheWorkerAndItsDeletionLetsItRun() throws Exception {
    String queue = RabbitFixture.uniqueQueue("limits-rest");
    try (AppProcess worker = AppProcess.worker(queue, 4);
        AppProcess producer = AppProcess.producer()) {
      try {
        HttpResponse<String> put = producer.put("/limits/demo.add", "{\"rate\": \"1/m\"}");
        assertTrue(put.statusCode() == 201 || put.statusCode() == 200, put.body());
        assertEquals("1/m", Json.MAPPER.readTree(put.body()).get("rate").asString());
        assertTrue(producer.get("/limits").body().contains("\"demo.add\""));

        // The worker's bucket starts with one token: the first may run, the rest are held.
        List<String> adds = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
          adds.add(task(producer, queue, "demo.add", "[1, " + i + "]"));
        }
        String echo = task(producer, queue, "demo.echo", "[\"free\"]");
        // Sent after them, it ran: they were delivered, and the limit holds all but one.
        producer.awaitState(echo, "SUCCESS");
        long done = adds.stream().filter(id -> state(producer, id).equals("SUCCESS")).count();
        assertTrue(done <= 1, done + " of 3 ran at 1/m");

        assertEquals(204, producer.delete("/limits/demo.add").statusCode());
        adds.forEach(id -> producer.awaitState(id, "SUCCESS"));
        assertEquals(404, producer.get("/limits/demo.add").statusCode());

        HttpResponse<String> badRate = producer.put("/limits/demo.add", "{\"rate\": \"10/d\"}");
        assertEquals(400, badRate.statusCode());
        assertEquals("/rate", Json.MAPPER.readTree(badRate.body()).get("pointer").asString());
        HttpResponse<String> global = producer.put("/limits/demo.add", "{\"scope\": \"global\"}");
        assertEquals(400, global.statusCode());
        assertEquals("/scope", Json.MAPPER.readTree(global.body()).get("pointer").asString());
      } finally {
        producer.delete("/limits/demo.add"); // the book is shared: leave no limit behind
      }
    } finally {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  private static String task(AppProcess producer, String queue, String task, String args)
      throws java.io.IOException {
    return producer.submitTask(
        "{\"task\": \"" + task + "\", \"args\": " + args + ", \"queue\": \"" + queue + "\"}");
  }

  private static String state(AppProcess producer, String id) {
    return producer.task(id).map(t -> t.get("state").asString()).orElse("PENDING");
  }
}
