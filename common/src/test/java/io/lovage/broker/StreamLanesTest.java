package io.lovage.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StreamLanesTest {
  private final StreamLanes lanes = new StreamLanes();

  StreamLanesTest() {
    lanes.learn(LovageTopology.forQueues(List.of("celery")).plus(LovageTopology.events()));
  }

  @Test
  void everyTaskEventGoesOnTheEventStreamsLaneAndARevocationOnTheLaneOfBothStreamsItReaches() {
    assertEquals(
        Optional.of(LovageTopology.EVENT_STREAM),
        lanes.laneOf(LovageTopology.EVENT_EXCHANGE, "task.succeeded"));
    assertEquals(
        Optional.of(LovageTopology.EVENT_STREAM),
        lanes.laneOf(LovageTopology.EVENT_EXCHANGE, "task.multi"));
    assertEquals(
        Optional.of(LovageTopology.EVENT_STREAM + "," + LovageTopology.REVOCATION_STREAM),
        lanes.laneOf(LovageTopology.EVENT_EXCHANGE, "task.revoked"));
  }

  @Test
  void aWorkerHeartbeatThatNoStreamTakesAndATaskGoOnTheMainChannel() {
    assertEquals(Optional.empty(), lanes.laneOf(LovageTopology.EVENT_EXCHANGE, "worker.heartbeat"));
    assertEquals(Optional.empty(), lanes.laneOf("", "celery"));
    assertEquals(Optional.empty(), lanes.laneOf("celery", "celery"));
  }

  @Test
  void aMessageToAStreamByItsNameThroughTheDefaultExchangeGoesOnThatStreamsLane() {
    assertEquals(
        Optional.of(LovageTopology.EVENT_STREAM), lanes.laneOf("", LovageTopology.EVENT_STREAM));
    assertEquals(
        Optional.of(LovageTopology.REVOCATION_STREAM),
        lanes.laneOf("", LovageTopology.REVOCATION_STREAM));
  }

  @Test
  void aDirectExchangeRoutesOnlyItsExactKeyAndAFanoutEveryKey() {
    StreamLanes own = new StreamLanes();
    own.learn(
        new Topology(
            List.of(new Topology.Exchange("d", "direct"), new Topology.Exchange("f", "fanout")),
            List.of(new Topology.Queue("s", Map.of("x-queue-type", "stream"))),
            List.of(new Topology.Binding("d", "s", "a.#"), new Topology.Binding("f", "s", "x"))));

    assertEquals(Optional.of("s"), own.laneOf("d", "a.#"));
    assertEquals(Optional.empty(), own.laneOf("d", "a.b"));
    assertEquals(Optional.of("s"), own.laneOf("f", "anything"));
  }

  @Test
  void topicKeysMatchOneWordForAStarAndNoneOrMoreForAHash() {
    assertTrue(StreamLanes.matches("task.#", "task"));
    assertTrue(StreamLanes.matches("task.#", "task.a.b"));
    assertTrue(StreamLanes.matches("*.heartbeat", "worker.heartbeat"));
    assertTrue(StreamLanes.matches("#", ""));
    assertTrue(StreamLanes.matches("a.#.z", "a.z"));
    assertFalse(StreamLanes.matches("*.heartbeat", "heartbeat"));
    assertFalse(StreamLanes.matches("task.#", "tasks.a"));
    assertFalse(StreamLanes.matches("task.*", "task.a.b"));
  }
}
