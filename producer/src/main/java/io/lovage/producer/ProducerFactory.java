package io.lovage.producer;

import io.lovage.TaskClient;
import io.lovage.broker.Broker;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.deadletter.DeadLetterStore;
import io.lovage.result.EventStreamResultStore;
import io.lovage.result.ReplyRecorder;
import io.lovage.result.TaskArchive;
import io.lovage.result.TaskEvents;
import io.lovage.result.WorkerDirectory;
import io.lovage.schedule.Schedule;
import io.lovage.schedule.Scheduler;
import io.lovage.service.DurationSetting;
import io.lovage.service.MeterSource;
import io.lovage.service.Readiness;
import io.lovage.service.ServiceBroker;
import io.lovage.service.openapi.JsonSchema;
import io.lovage.service.openapi.SchemaSource;
import io.lovage.workflow.CanvasSender;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The producer's beans, from {@code RABBITMQ_URI}, {@code LOVAGE_QUEUE_TYPE}, {@code
 * LOVAGE_RESULTS_MAX_TASKS}, {@code LOVAGE_RESULTS_ARCHIVE} and {@code LOVAGE_RESULT_EXPIRES}.
 */
@Factory
final class ProducerFactory {

  @Singleton
  @Bean(preDestroy = "close")
  Broker broker(
      @Value("${rabbitmq.uri:}") String uri,
      @Value("${rabbitmq.addresses:}") String addresses,
      @Value("${lovage.publish.timeout:}") String publishTimeout,
      @Value("${lovage.heartbeat:}") String heartbeat,
      @Value("${lovage.stream.port:}") String streamPort,
      @Value("${rabbitmq.stream.addresses:}") String streamAddresses,
      @Value("${rabbitmq.password.file:}") String passwordFile,
      @Value("${lovage.topology:}") String topology,
      io.lovage.security.TlsSettings tls) {
    return RabbitBroker.connect(
        ServiceBroker.settings(uri, addresses, producerName(), publishTimeout, heartbeat)
            .withStreams(streamPort, streamAddresses)
            .withTls(tls)
            .withPasswordFile(passwordFile)
            .withTopology(topology));
  }

  // Closed before the broker (it needs it): its task-sent events still in flight are confirmed.
  @Singleton
  @Bean(preDestroy = "close")
  TaskClient client(
      Broker broker,
      @Value("${lovage.queue.type:}") String queueType,
      io.lovage.security.MessageSecurity security) {
    // With LOVAGE_SECURITY_KEY and LOVAGE_SECURITY_CERTIFICATE every task it sends is signed.
    return new TaskClient(
        broker, producerName(), QueueType.parse(queueType), Clock.systemUTC(), security);
  }

  @Singleton
  @Bean(preDestroy = "close")
  io.lovage.RemoteControl remoteControl(Broker broker) {
    return new io.lovage.RemoteControl(broker, Clock.systemUTC());
  }

  @Singleton
  @Bean(preDestroy = "close")
  WorkerDirectory workers(Broker broker) {
    return new WorkerDirectory(Clock.systemUTC()).follow(broker);
  }

  @Singleton
  DeadLetterStore deadLetters(Broker broker) {
    return new DeadLetterStore(broker, producerName(), Clock.systemUTC());
  }

  /** The request bodies that controllers check themselves, for the OpenAPI document. */
  @Singleton
  SchemaSource requestSchemas() {
    return () ->
        Map.of(
            TaskSubmission.SCHEMA,
            TaskSubmission.jsonSchema(),
            TaskSubmission.SIGNATURE_SCHEMA,
            TaskSubmission.signatureSchema(),
            TaskController.BATCH_SCHEMA,
            JsonSchema.array(
                    "1 to " + TaskController.MAX_BATCH + " tasks",
                    JsonSchema.ref(TaskSubmission.SCHEMA))
                .put("minItems", 1)
                .put("maxItems", TaskController.MAX_BATCH),
            WorkflowSubmission.SCHEMA,
            WorkflowSubmission.jsonSchema(),
            WorkflowSubmission.TASK_SCHEMA,
            WorkflowSubmission.taskSchema(),
            WorkflowSubmission.CELERY_SCHEMA,
            WorkflowSubmission.celerySchema());
  }

  // At start, not at the first request that needs it: the history is read while the server starts.
  @io.micronaut.context.annotation.Context
  @Bean(preDestroy = "close")
  EventStreamResultStore results(
      Broker broker,
      @Value("${lovage.results.max.tasks:0}") int maxTasks,
      @Value("${lovage.result.expires:}") String expires,
      @Value("${lovage.results.archive:}") String archive,
      TaskThroughput throughput) {
    broker.declare(LovageTopology.events());
    Duration expiry = expires(expires);
    var store =
        new EventStreamResultStore(
            maxTasks(maxTasks), expiry, Clock.systemUTC(), archive(archive, expiry));
    // Before the history is read, so the dashboard's tasks-per-second chart has its last minutes.
    store.onEvent(throughput::record);
    return store.follow(broker);
  }

  /**
   * {@code lovage_results_history_read}: 1 once the results and the workflows have read the event
   * history that was in the stream at start, 0 before. Submits are taken meanwhile; the reading
   * shares the CPU with them.
   */
  @Singleton
  MeterSource historyMetrics(EventStreamResultStore results, WorkflowStore workflows) {
    return registry ->
        io.micrometer.core.instrument.Gauge.builder(
                "lovage.results.history.read",
                () -> results.caughtUp() && workflows.caughtUp() ? 1 : 0)
            .description("1 once the event history in the stream at start has been read")
            .register(registry);
  }

  @Singleton
  TaskThroughput throughput() {
    return new TaskThroughput(Clock.systemUTC());
  }

  /**
   * {@code LOVAGE_RESULTS_ARCHIVE}: the directory in which the producer keeps the tasks memory
   * evicted (the temporary directory by default), or {@code off} to forget them.
   */
  private static TaskArchive archive(String setting, Duration expires) {
    if ("off".equalsIgnoreCase(setting.strip())) {
      return TaskArchive.NONE;
    }
    Path directory =
        Path.of(setting.isBlank() ? System.getProperty("java.io.tmpdir") : setting.strip());
    return DiskTaskArchive.create(directory, expires, Clock.systemUTC());
  }

  /**
   * The reply queue of tasks submitted over REST: outcomes that come back only as rpc replies
   * (Celery workers without task events) go into the event stream from there.
   */
  @Singleton
  @Bean(preDestroy = "close")
  ReplyRecorder replies(Broker broker, TaskEvents events, EventStreamResultStore results) {
    return new ReplyRecorder(broker, events, results, ReplyRecorder.DEFAULT_GRACE).start();
  }

  /**
   * The task events this producer sends on behalf of tasks (outcomes recorded from rpc replies,
   * tasks of a canvas that will never run): one sender, one clock, for its one hostname.
   */
  @Singleton
  TaskEvents events(Broker broker) {
    return new TaskEvents(broker, producerName(), Clock.systemUTC());
  }

  @Singleton
  CanvasSender canvasSender(Broker broker, TaskClient client, TaskEvents events) {
    // The events are for the tasks of a canvas that will never run, which only workers record.
    return new CanvasSender(broker, client, events, Clock.systemUTC());
  }

  /**
   * The scheduler of periodic tasks: every replica reads the schedules; with {@code
   * LOVAGE_SCHEDULER=on} (the default) it also takes part in the election of the one that sends the
   * runs. Schedules in {@code LOVAGE_SCHEDULES} (a JSON array of schedules) are put at start,
   * replacing what REST changed of them, as a beat schedule in Celery's configuration would.
   */
  @io.micronaut.context.annotation.Context // at start, not at the first request that needs it
  @Bean(preDestroy = "close")
  Scheduler scheduler(
      Broker broker,
      TaskClient client,
      @Value("${lovage.scheduler:on}") String on,
      @Value("${lovage.schedules:}") String configured) {
    List<Schedule> fromConfig = ScheduleSettings.parse(configured);
    Scheduler scheduler =
        new Scheduler(broker, client, Clock.systemUTC()).start(ScheduleSettings.isOn(on));
    fromConfig.forEach(schedule -> scheduler.put(schedule).join());
    return scheduler;
  }

  /** Tasks' run-time limits, set over REST: every replica reads them, from the stream's start. */
  @io.micronaut.context.annotation.Context
  @Bean(preDestroy = "close")
  io.lovage.limits.LimitBook limits(Broker broker) {
    return new io.lovage.limits.LimitBook(broker, Clock.systemUTC()).follow();
  }

  @Singleton
  Readiness limitsHealth(io.lovage.limits.LimitBook limits) {
    return new Readiness("limits", limits::caughtUp);
  }

  @Singleton
  Readiness schedulerHealth(Scheduler scheduler) {
    return new Readiness(
        "scheduler",
        scheduler::caughtUp,
        () -> Map.of("leader", scheduler.isLeader(), "leaderChanges", scheduler.leaderChanges()));
  }

  @Singleton
  MeterSource schedulerMetrics(Scheduler scheduler) {
    return registry -> {
      io.micrometer.core.instrument.FunctionCounter.builder(
              "lovage.schedule.runs.sent", scheduler, Scheduler::runsSent)
          .description("runs of periodic tasks this replica sent")
          .register(registry);
      io.micrometer.core.instrument.FunctionCounter.builder(
              "lovage.scheduler.leader.changes", scheduler, Scheduler::leaderChanges)
          .description("times this replica became the scheduler's leader")
          .register(registry);
      io.micrometer.core.instrument.Gauge.builder(
              "lovage.scheduler.leader", scheduler, s -> s.isLeader() ? 1 : 0)
          .description("1 while this replica leads the scheduler")
          .register(registry);
      io.micrometer.core.instrument.Timer late =
          io.micrometer.core.instrument.Timer.builder("lovage.schedule.run.lateness")
              .description("how long after its scheduled time a run was sent")
              .publishPercentileHistogram()
              .register(registry);
      scheduler.onRun(run -> late.record(java.time.Duration.between(run.scheduled(), run.sent())));
    };
  }

  /** Workflows by id, read from the event stream; bounded and expired like the results. */
  @Singleton
  @Bean(preDestroy = "close")
  WorkflowStore workflows(
      Broker broker,
      @Value("${lovage.results.max.tasks:0}") int maxTasks,
      @Value("${lovage.result.expires:}") String expires) {
    broker.declare(LovageTopology.events());
    return new WorkflowStore(broker, maxTasks(maxTasks), expires(expires), Clock.systemUTC())
        .follow();
  }

  /**
   * This producer's name to the broker and in what it sends: its connection, the origin of its
   * tasks, the hostname of its task events.
   */
  private static String producerName() {
    return "lovage-producer-" + ProcessHandle.current().pid();
  }

  /** {@code LOVAGE_RESULTS_MAX_TASKS}, for the results and the workflows alike. */
  private static int maxTasks(int setting) {
    return setting > 0 ? setting : EventStreamResultStore.DEFAULT_MAX_TASKS;
  }

  /** {@code LOVAGE_RESULT_EXPIRES}, for the results and the workflows alike. */
  private static Duration expires(String setting) {
    return DurationSetting.parse(
        "LOVAGE_RESULT_EXPIRES", setting, EventStreamResultStore.DEFAULT_EXPIRES);
  }
}
