package io.lovage.worker.app;

import io.lovage.TaskModule;
import io.lovage.TaskRegistry;
import io.lovage.broker.Broker;
import io.lovage.broker.BrokerSettings;
import io.lovage.broker.LovageTopology;
import io.lovage.broker.QueueType;
import io.lovage.broker.RabbitBroker;
import io.lovage.security.MessageSecurity;
import io.lovage.service.DurationSetting;
import io.lovage.service.Readiness;
import io.lovage.service.ServiceBroker;
import io.lovage.worker.Worker;
import io.lovage.worker.WorkerObserver;
import io.lovage.worker.WorkerSettings;
import io.lovage.worker.process.ProcessPoolSettings;
import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the worker from the environment: {@code RABBITMQ_URI}, {@code LOVAGE_QUEUES}, {@code
 * LOVAGE_IO_CONCURRENCY} (or {@code LOVAGE_CONCURRENCY}), {@code LOVAGE_CPU_CONCURRENCY}, {@code
 * LOVAGE_SHUTDOWN_GRACE}, {@code LOVAGE_QUEUE_TYPE}, {@code LOVAGE_PREFETCH}, {@code
 * LOVAGE_RATE_LIMITS}, {@code LOVAGE_CONCURRENCY_LIMITS}, and for the process pool {@code
 * LOVAGE_POOL}, {@code LOVAGE_PROCESS_CONCURRENCY}, {@code LOVAGE_PROCESS_MIN}, {@code
 * LOVAGE_MAX_TASKS_PER_CHILD}, {@code LOVAGE_MAX_MEMORY_PER_CHILD}, {@code
 * LOVAGE_PROCESS_JAVA_OPTIONS}, and signed messages ({@code LOVAGE_SECURITY_*}, read by
 * service-support's SecurityFactory). Defaults live in {@link BrokerSettings}, {@link
 * WorkerSettings} and {@link ProcessPoolSettings}.
 */
@Factory
final class WorkerFactory {
  private static final Logger log = LoggerFactory.getLogger(WorkerFactory.class);

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
        ServiceBroker.settings(
                uri, addresses, WorkerSettings.defaultName(), publishTimeout, heartbeat)
            .withStreams(streamPort, streamAddresses)
            .withTls(tls)
            .withPasswordFile(passwordFile)
            .withTopology(topology));
  }

  @Singleton
  TaskRegistry tasks(List<TaskModule> beans) {
    TaskRegistry.Builder tasks = TaskRegistry.builder();
    beans.forEach(module -> module.register(tasks));
    // Task jars added to the classpath (e.g. /app/tasks/*.jar in the image) list their modules
    // in META-INF/services/io.lovage.TaskModule.
    ServiceLoader.load(TaskModule.class)
        .forEach(
            module -> {
              log.info("task module from classpath module={}", module.getClass().getName());
              module.register(tasks);
            });
    return tasks.build();
  }

  @Singleton
  WorkerSettings settings(
      @Value("${lovage.queues:}") String queues,
      @Value("${lovage.io.concurrency:0}") int ioConcurrency,
      @Value("${lovage.concurrency:0}") int concurrency,
      @Value("${lovage.cpu.concurrency:0}") int cpuConcurrency,
      @Value("${lovage.shutdown.grace:}") String grace,
      @Value("${lovage.queue.type:}") String queueType,
      @Value("${lovage.prefetch:0}") int prefetch,
      @Value("${lovage.result.max.bytes:0}") int resultMaxBytes,
      @Value("${lovage.rate.limits:}") String rateLimits,
      @Value("${lovage.concurrency.limits:}") String concurrencyLimits,
      ProcessPoolSettings processes,
      MessageSecurity security) {
    int io = ioConcurrency > 0 ? ioConcurrency : concurrency;
    return new WorkerSettings(
        WorkerSettings.defaultName(),
        WorkerSettings.parseQueues(queues.isBlank() ? LovageTopology.DEFAULT_QUEUE : queues),
        io > 0 ? io : WorkerSettings.DEFAULT_IO_CONCURRENCY,
        cpuConcurrency > 0 ? cpuConcurrency : WorkerSettings.DEFAULT_CPU_CONCURRENCY,
        DurationSetting.parse(
            "LOVAGE_SHUTDOWN_GRACE", grace, WorkerSettings.DEFAULT_SHUTDOWN_GRACE),
        QueueType.parse(queueType),
        prefetch,
        resultMaxBytes > 0 ? resultMaxBytes : WorkerSettings.DEFAULT_RESULT_MAX_BYTES,
        processes,
        WorkerSettings.parseRateLimits(rateLimits),
        WorkerSettings.parseConcurrencyLimits(concurrencyLimits),
        security);
  }

  /**
   * The process pool. Its children create the task modules that are beans here by their class names
   * (modules of {@code META-INF/services} they find themselves).
   */
  @Singleton
  ProcessPoolSettings processes(
      List<TaskModule> beans,
      @Value("${lovage.pool:}") String pool,
      @Value("${lovage.process.concurrency:0}") int max,
      @Value("${lovage.process.min:-1}") int min,
      @Value("${lovage.max.tasks.per.child:0}") int maxTasksPerChild,
      @Value("${lovage.max.memory.per.child:}") String maxMemoryPerChild,
      @Value("${lovage.process.java.options:}") String javaOptions) {
    int children = max > 0 ? max : ProcessPoolSettings.DEFAULT_MAX;
    return ProcessPoolSettings.DEFAULT
        .withKinds(ProcessPoolSettings.parsePool(pool))
        .withChildren(
            min >= 0 ? min : Math.min(ProcessPoolSettings.DEFAULT_MIN, children), children)
        .withMaxTasksPerChild(maxTasksPerChild)
        .withMaxMemoryPerChild(
            ProcessPoolSettings.parseBytes("LOVAGE_MAX_MEMORY_PER_CHILD", maxMemoryPerChild))
        .withTaskModules(beans.stream().map(module -> module.getClass().getName()).toList())
        .withJvmOptions(
            Arrays.stream(javaOptions.trim().split("\\s+")).filter(o -> !o.isEmpty()).toList());
  }

  @Singleton
  @Bean(preDestroy = "close")
  Worker worker(
      Broker broker, TaskRegistry tasks, WorkerSettings settings, WorkerObserver observer) {
    Worker worker = new Worker(broker, tasks, settings, java.time.Clock.systemUTC(), observer);
    // Celery's `control shutdown`: exactly what SIGTERM does (GracefulExit): stop consuming, let
    // running tasks finish within the grace, exit 0.
    worker.onRemoteShutdown(() -> sun.misc.Signal.raise(new sun.misc.Signal("TERM")));
    return worker;
  }

  /**
   * With {@code LOVAGE_SCHEDULER=on} (off by default in workers) this worker also takes part in the
   * election of the scheduler that sends periodic tasks, as every producer replica does.
   */
  @io.micronaut.context.annotation.Context
  @io.micronaut.context.annotation.Requires(property = "lovage.scheduler", value = "on")
  @Bean(preDestroy = "close")
  io.lovage.schedule.Scheduler scheduler(
      Broker broker, @Value("${lovage.queue.type:}") String queueType, MessageSecurity security) {
    java.time.Clock clock = java.time.Clock.systemUTC();
    return new io.lovage.schedule.Scheduler(
            broker,
            new io.lovage.TaskClient(
                broker,
                "lovage-worker-" + ProcessHandle.current().pid(),
                io.lovage.broker.QueueType.parse(queueType),
                clock,
                security),
            clock)
        .start(true);
  }

  /** {@code /health} is UP only while the worker consumes its queues. */
  @Singleton
  Readiness consuming(Worker worker) {
    return new Readiness("worker", worker::isConsuming);
  }
}
