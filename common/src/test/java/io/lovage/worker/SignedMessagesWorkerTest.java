package io.lovage.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.RetryPolicy;
import io.lovage.TaskClient;
import io.lovage.TaskOptions;
import io.lovage.TaskRegistry;
import io.lovage.TaskState;
import io.lovage.broker.InMemoryBroker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.Message;
import io.lovage.broker.QueueType;
import io.lovage.protocol.TaskMessage;
import io.lovage.protocol.TaskMessageCodec;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.TaskRecord;
import io.lovage.security.CertStore;
import io.lovage.security.MessageSecurity;
import io.lovage.security.MessageSigner;
import io.lovage.security.WireFormat;
import io.lovage.testing.Await;
import io.lovage.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker with a certificate store runs signed messages only; the rest are dead letters. */
class SignedMessagesWorkerTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String QUEUE = "celery";

  @TempDir static Path dir;
  static MessageSigner producerKey;
  static MessageSigner workerKey;
  static MessageSigner strangerKey;
  static CertStore trusted;

  @BeforeAll
  static void keys() throws Exception {
    TestCertificates.Signer producer = TestCertificates.make(dir, "producer");
    TestCertificates.Signer worker = TestCertificates.make(dir, "worker");
    TestCertificates.Signer stranger = TestCertificates.make(dir, "stranger");
    producerKey =
        MessageSigner.fromPem(producer.key(), producer.certificate(), WireFormat.CELERY_5_2);
    workerKey = MessageSigner.fromPem(worker.key(), worker.certificate(), WireFormat.CELERY_5_5);
    strangerKey =
        MessageSigner.fromPem(stranger.key(), stranger.certificate(), WireFormat.CELERY_5_2);
    Path store = Files.createDirectory(dir.resolve("trusted"));
    Files.copy(producer.certificate(), store.resolve("producer.pem"));
    Files.copy(worker.certificate(), store.resolve("worker.pem"));
    trusted = CertStore.fromPath(store.toString());
  }

  private final AtomicInteger runs = new AtomicInteger();
  private final AtomicInteger flakyTries = new AtomicInteger();
  private final InMemoryBroker broker = new InMemoryBroker();
  private final TaskRegistry tasks =
      TaskRegistry.builder()
          .register(
              "add",
              call -> {
                runs.incrementAndGet();
                return call.arg(0, "x", long.class) + call.arg(1, "y", long.class);
              })
          .register(
              "flaky",
              call -> {
                if (flakyTries.incrementAndGet() < 2) {
                  throw new java.io.UncheckedIOException(new java.io.IOException("try again"));
                }
                return "ok";
              },
              TaskOptions.DEFAULT.withRetry(
                  RetryPolicy.on(java.io.UncheckedIOException.class)
                      .withBackoff(Duration.ZERO, Duration.ZERO)))
          .build();
  private final Worker worker =
      new Worker(
          broker,
          tasks,
          WorkerSettings.of(List.of(QUEUE), 4)
              .withSecurity(MessageSecurity.signingWith(workerKey).withTrusted(trusted)));
  private final TaskClient signing = client(MessageSecurity.signingWith(producerKey));
  private final EventStreamResultStore results = new EventStreamResultStore(1000);

  SignedMessagesWorkerTest() {
    worker.start();
    results.follow(broker);
  }

  @AfterEach
  void stop() {
    worker.close();
    broker.close();
  }

  private TaskClient client(MessageSecurity security) {
    return new TaskClient(broker, "test", QueueType.QUORUM, Clock.systemUTC(), security);
  }

  @Test
  void taskSignedByATrustedSignerRuns() {
    TaskMessage sent = signing.send(TaskMessage.builder("add").args(2, 3).build()).join();

    assertEquals(TaskState.SUCCESS, awaitState(sent.id(), TaskState.SUCCESS).state());
    assertEquals(1, runs.get());
  }

  @Test
  void unsignedTaskIsDeadLetteredWithItsReasonAndNeverRuns() {
    client(MessageSecurity.NONE).send(TaskMessage.builder("add").args(2, 3).build()).join();

    assertTrue(
        deadLetterReason().startsWith("unsigned message (content type 'application/json')"),
        deadLetterReason());
    assertEquals(0, runs.get());
    assertWorkerGoesOn();
  }

  @Test
  void taskFromAnUnknownSignerIsDeadLetteredAndNeverRuns() {
    client(MessageSecurity.signingWith(strangerKey))
        .send(TaskMessage.builder("add").args(2, 3).build())
        .join();

    assertTrue(
        deadLetterReason().startsWith("unknown signer 'DE Lovage Test stranger "),
        deadLetterReason());
    assertEquals(0, runs.get());
    assertWorkerGoesOn();
  }

  @Test
  void tamperedTaskIsDeadLetteredAsBadSignatureAndNeverRuns() {
    Message signed =
        producerKey.sign(TaskMessageCodec.encode(TaskMessage.builder("add").args(2, 3).build()));
    byte[] raw = Base64.getDecoder().decode(signed.body());
    raw[raw.length - 60] ^= 0x01; // inside [args, kwargs, embed]
    broker.publish(
        LovageTopology.TASK_EXCHANGE,
        QUEUE,
        new Message(
            Base64.getEncoder().encode(raw),
            signed.headers(),
            signed.contentType(),
            signed.contentEncoding(),
            null,
            null,
            null,
            true));

    assertTrue(
        deadLetterReason().startsWith("bad signature from signer 'DE Lovage Test producer "),
        deadLetterReason());
    assertEquals(0, runs.get());
    assertWorkerGoesOn();
  }

  @Test
  void retryOfASignedTaskIsSignedByTheWorkerAndRuns() {
    TaskMessage sent = signing.send(TaskMessage.builder("flaky").build()).join();

    assertEquals("ok", awaitState(sent.id(), TaskState.SUCCESS).result().asString());
    assertEquals(2, flakyTries.get());
  }

  @Test
  void workerWithoutCertStoreDeadLettersSignedTasksItCannotVerify() {
    worker.close();
    try (Worker plain = new Worker(broker, tasks, WorkerSettings.of(List.of(QUEUE), 4))) {
      plain.start();
      signing.send(TaskMessage.builder("add").args(2, 3).build()).join();

      assertTrue(
          deadLetterReason().contains("but no LOVAGE_SECURITY_CERT_STORE to verify it with"),
          deadLetterReason());
      assertEquals(0, runs.get());
    }
  }

  private void assertWorkerGoesOn() {
    TaskMessage next = signing.send(TaskMessage.builder("add").args(1, 1).build()).join();
    awaitState(next.id(), TaskState.SUCCESS);
  }

  private String deadLetterReason() {
    Message dead =
        Await.until(
            WAIT,
            "a dead letter",
            () -> broker.messages(LovageTopology.deadLetterQueue(QUEUE)).stream().findFirst());
    return dead.headers().get("x-lovage-reason").toString();
  }

  private TaskRecord awaitState(String id, TaskState state) {
    return Await.until(
        WAIT,
        "task " + id + " in " + state,
        () -> results.find(id).filter(record -> record.state() == state));
  }
}
