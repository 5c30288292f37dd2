package io.lovage.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.TaskClient;
import io.lovage.broker.ConsumeOptions;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Periodic tasks on a real RabbitMQ: the lease, the runs stream and a leader change. */
class SchedulerIT {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private final String queue = RabbitFixture.uniqueQueue("schedule");
  private final String name = "it-" + queue;
  private final List<RabbitBroker> brokers = new ArrayList<>();
  private final List<Scheduler> schedulers = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    // The test's schedule must not outlive it: every replica would go on sending its runs.
    for (int i = 0; i < schedulers.size(); i++) {
      if (brokers.get(i).isConnected()) {
        schedulers.get(i).delete(name).join();
        break;
      }
    }
    schedulers.forEach(Scheduler::close);
    brokers.forEach(RabbitBroker::close);
    RabbitFixture.deleteTaskQueue(queue);
  }

  @Test
  void aScheduleEverySecondRunsOncePerSecondWhenItsLeaderDies() {
    Scheduler first = replica("SchedulerIT-1");
    Scheduler second = replica("SchedulerIT-2");
    Await.until(WAIT, "a leader", () -> first.isLeader() || second.isLeader());
    Scheduler leader = first.isLeader() ? first : second;
    Scheduler follower = leader == first ? second : first;
    leader
        .put(
            new Schedule(
                name,
                "it.tick",
                null,
                null,
                queue,
                Schedule.When.every(1),
                null,
                CatchUp.ONCE,
                true))
        .join();
    List<Instant> ran = new CopyOnWriteArrayList<>();
    RabbitBroker reader = RabbitFixture.connect("SchedulerIT-reader");
    brokers.add(reader);
    reader.declare(LovageTopology.taskQueue(queue));
    reader.consume(
        queue,
        ConsumeOptions.prefetch(50),
        delivery -> {
          ran.add(
              Instant.parse((String) delivery.message().headers().get(Scheduler.SCHEDULED_HEADER)));
          delivery.ack();
        });
    Await.until(WAIT, "three runs", () -> ran.size() >= 3);

    // The leader's connections drop as if its process died: RabbitMQ hands the lease on.
    brokers.get(schedulers.indexOf(leader)).close();
    int before = ran.size();
    Await.until(WAIT, "the other replica to lead", follower::isLeader);
    Await.until(WAIT, "three more runs", () -> ran.size() >= before + 3);

    List<Instant> sorted = ran.stream().sorted().toList();
    assertEquals(sorted.size(), sorted.stream().distinct().count(), "a run twice: " + sorted);
    for (int i = 1; i < sorted.size(); i++) {
      assertEquals(
          Duration.ofSeconds(1),
          Duration.between(sorted.get(i - 1), sorted.get(i)),
          "a run missed: " + sorted);
    }
    assertTrue(follower.runs(name).size() >= ran.size() - 1, "runs read back from the stream");
  }

  private Scheduler replica(String client) {
    RabbitBroker broker = RabbitFixture.connect(client);
    brokers.add(broker);
    Scheduler scheduler =
        new Scheduler(
                broker,
                new TaskClient(broker, client, QueueType.QUORUM, Clock.systemUTC()),
                Clock.systemUTC())
            .start(true);
    schedulers.add(scheduler);
    return scheduler;
  }
}
