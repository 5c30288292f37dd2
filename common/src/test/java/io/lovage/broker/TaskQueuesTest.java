package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.testing.ForwardingBroker;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Where a task of some priority goes: its queue, or its urgent lane on RabbitMQ 3.x. */
class TaskQueuesTest {

  @Test
  void onRabbitMq3AQuorumQueuesPriority5To9GoesToItsUrgentLaneAndTheRestToTheQueue() {
    TaskQueues queues = new TaskQueues(new InMemoryBroker("3.10.8"), QueueType.QUORUM);

    assertEquals("lovage.urgent.celery", queues.route("celery", 9));
    assertEquals("lovage.urgent.celery", queues.route("celery", 5));
    assertEquals("celery", queues.route("celery", 4));
    assertEquals("celery", queues.route("celery", null));
    assertEquals(Optional.of("lovage.urgent.celery"), queues.declare("celery"));
  }

  @Test
  void onRabbitMq4AndOnClassicQueuesEveryPriorityGoesToTheQueueItself() {
    for (TaskQueues queues :
        List.of(
            new TaskQueues(new InMemoryBroker("4.0.5"), QueueType.QUORUM),
            new TaskQueues(new InMemoryBroker("3.10.8"), QueueType.CLASSIC))) {
      assertEquals("celery", queues.route("celery", 9));
      assertEquals(Optional.empty(), queues.declare("celery"));
    }
  }

  @Test
  void theUrgentLaneHasTheQueuesArgumentsSoItsDeadLettersJoinTheQueues() {
    Map<String, Object> queue = arguments(LovageTopology.taskQueue("celery", QueueType.QUORUM));
    Map<String, Object> lane = arguments(LovageTopology.urgentLaneOf("celery"));

    assertEquals(queue, lane);
    assertEquals("celery", lane.get("x-dead-letter-routing-key"));
    assertTrue(
        LovageTopology.urgentLaneOf("celery")
            .bindings()
            .contains(
                new Topology.Binding(
                    LovageTopology.TASK_EXCHANGE, "lovage.urgent.celery", "lovage.urgent.celery")),
        "reached from the task exchange under its own name");
  }

  @Test
  void aQueueThatExistsWithOtherArgumentsGetsNoLaneAndIsUsedAsItIs() {
    Broker celeryMadeIt =
        new ForwardingBroker(new InMemoryBroker("3.10.8")) {
          @Override
          public List<String> declare(Topology topology) {
            List<String> mismatches = new java.util.ArrayList<>(inner.declare(topology));
            mismatches.add("inequivalent arg 'x-queue-type' for queue 'celery'");
            return mismatches;
          }
        };

    TaskQueues queues = new TaskQueues(celeryMadeIt, QueueType.QUORUM);

    assertEquals("celery", queues.route("celery", 9));
  }

  @Test
  void aLaneTheBrokerDoesNotHaveAndMayNotBeDeclaredLeavesUrgentTasksInTheQueue() {
    Broker verifying =
        new ForwardingBroker(new InMemoryBroker("3.10.8")) {
          @Override
          public List<String> declare(Topology topology) {
            if (topology.queues().stream().anyMatch(q -> q.name().startsWith("lovage.urgent."))) {
              throw new BrokerException("queue 'lovage.urgent.celery' does not exist", null);
            }
            return inner.declare(topology);
          }
        };

    TaskQueues queues = new TaskQueues(verifying, QueueType.QUORUM);

    assertEquals("celery", queues.route("celery", 9));
    assertEquals(Optional.empty(), queues.declare("celery"));
  }

  @Test
  void aVersionThatIsNotRabbitMqsCountsAsANewOne() {
    assertEquals(false, TaskQueues.needsLanes("unknown"));
    assertEquals(true, TaskQueues.needsLanes("3.13.7"));
    assertEquals(false, TaskQueues.needsLanes("4.2.0"));
  }

  private static Map<String, Object> arguments(Topology topology) {
    Map<String, Object> arguments = new HashMap<>(topology.queues().getFirst().arguments());
    return arguments;
  }
}
