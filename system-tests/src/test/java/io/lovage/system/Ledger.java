package io.lovage.system;

import io.lovage.protocol.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The books of one fault scenario: every {@code demo.mark} task submitted, with the producer's
 * answer; every run, from the mark file the workers append to (one line {@code "<key> <task id>
 * <pid>"} per run); and every task's final state from {@code GET /tasks/{id}}.
 *
 * <p>Each task carries a key of its own as its argument, so a run is matched to its submission even
 * when the submission was refused and no task id came back.
 */
final class Ledger {
  static final Set<String> FINAL = Set.of("SUCCESS", "FAILURE", "REJECTED", "REVOKED");

  /** What one submission got: HTTP status (0: no answer), task id if accepted, when. */
  record Submission(
      String key, int status, String id, long sentNanos, long answeredNanos, boolean retryAfter) {
    boolean confirmed() {
      return status == 202;
    }

    long millis() {
      return (answeredNanos - sentNanos) / 1_000_000;
    }
  }

  /** One line of the mark file: a run of the task with this key, by this worker process. */
  record Run(String key, String taskId, long pid) {}

  private final String scenario;
  private final String queue;
  private final Path marks;
  private final AtomicLong keys = new AtomicLong();
  private final Queue<Submission> submissions = new ConcurrentLinkedQueue<>();
  private final AtomicLong confirmedCount = new AtomicLong();
  private volatile String settled = "";

  Ledger(String scenario, String queue, Path marks) {
    this.scenario = scenario;
    this.queue = queue;
    this.marks = marks;
  }

  String scenario() {
    return scenario;
  }

  String queue() {
    return queue;
  }

  /** The mark file, for {@code LOVAGE_DEMO_MARK_FILE} of the scenario's workers. */
  Path marks() {
    return marks;
  }

  /** The environment of a worker of this scenario: its queue and the mark file. */
  Map<String, String> workerEnv(Map<String, String> more) {
    Map<String, String> env = new HashMap<>(more);
    env.put("LOVAGE_QUEUES", queue);
    env.put("LOVAGE_DEMO_MARK_FILE", marks.toAbsolutePath().toString());
    return env;
  }

  private String nextKey() {
    return scenario + "-" + keys.incrementAndGet();
  }

  private ObjectNode markTask(String key, double seconds) {
    return markTask(key, seconds, Map.of());
  }

  private ObjectNode markTask(String key, double seconds, Map<String, Object> kwargs) {
    ObjectNode task = Json.MAPPER.createObjectNode();
    task.put("task", "demo.mark");
    task.putArray("args").add(key).add(seconds);
    if (!kwargs.isEmpty()) {
      task.set("kwargs", Json.MAPPER.valueToTree(kwargs));
    }
    task.put("queue", queue);
    return task;
  }

  /** Submits one {@code demo.mark} over {@code POST /tasks} and records the answer. */
  Submission submit(AppProcess producer, double seconds) {
    String key = nextKey();
    long sent = System.nanoTime();
    Submission submission;
    try {
      HttpResponse<String> r =
          producer.post(
              "/tasks", "application/json", Json.MAPPER.writeValueAsString(markTask(key, seconds)));
      String id =
          r.statusCode() == 202 ? Json.MAPPER.readTree(r.body()).get("id").asString() : null;
      submission =
          new Submission(
              key,
              r.statusCode(),
              id,
              sent,
              System.nanoTime(),
              r.headers().firstValue("Retry-After").isPresent());
    } catch (IOException e) {
      submission = new Submission(key, 0, null, sent, System.nanoTime(), false);
    }
    add(submission);
    return submission;
  }

  /** Submits {@code count} {@code demo.mark} tasks over {@code POST /tasks/batch}, 500 a time. */
  void submitBatches(AppProcess producer, int count, double seconds) throws IOException {
    submitBatches(producer, count, seconds, key -> Map.of());
  }

  /**
   * Submits {@code count} {@code demo.mark} tasks over {@code POST /tasks/batch}, 500 a time, each
   * with the kwargs {@code kwargs} gives for its key.
   */
  void submitBatches(
      AppProcess producer,
      int count,
      double seconds,
      java.util.function.Function<String, Map<String, Object>> kwargs)
      throws IOException {
    for (int done = 0; done < count; ) {
      int size = Math.min(500, count - done);
      List<String> batchKeys = new ArrayList<>();
      ArrayNode batch = Json.MAPPER.createArrayNode();
      for (int i = 0; i < size; i++) {
        String key = nextKey();
        batchKeys.add(key);
        batch.add(markTask(key, seconds, kwargs.apply(key)));
      }
      long sent = System.nanoTime();
      HttpResponse<String> r =
          producer.post("/tasks/batch", "application/json", Json.MAPPER.writeValueAsString(batch));
      long answered = System.nanoTime();
      if (r.statusCode() != 202) {
        throw new AssertionError("batch not accepted: " + r.statusCode() + " " + r.body());
      }
      JsonNode items = Json.MAPPER.readTree(r.body());
      for (int i = 0; i < size; i++) {
        add(
            new Submission(
                batchKeys.get(i), 202, items.get(i).get("id").asString(), sent, answered, false));
      }
      done += size;
    }
  }

  /**
   * Submits {@code size} {@code demo.mark} tasks in one {@code POST /tasks/batch} and records each
   * item's answer, also when the batch is not accepted whole: a 503 lists the items the broker
   * confirmed, and the others count as refused. Answers whether every item was accepted.
   */
  boolean submitBatch(AppProcess producer, int size, double seconds) {
    List<String> batchKeys = new ArrayList<>();
    ArrayNode batch = Json.MAPPER.createArrayNode();
    for (int i = 0; i < size; i++) {
      String key = nextKey();
      batchKeys.add(key);
      batch.add(markTask(key, seconds));
    }
    long sent = System.nanoTime();
    int status = 0;
    Map<Integer, String> accepted = new HashMap<>();
    boolean retryAfter = false;
    try {
      HttpResponse<String> r =
          producer.post("/tasks/batch", "application/json", Json.MAPPER.writeValueAsString(batch));
      status = r.statusCode();
      retryAfter = r.headers().firstValue("Retry-After").isPresent();
      JsonNode body = Json.MAPPER.readTree(r.body());
      JsonNode items = status == 202 ? body : body.path("accepted");
      for (JsonNode item : items) {
        accepted.put(item.get("index").asInt(), item.get("id").asString());
      }
    } catch (IOException | RuntimeException e) {
      // no answer, or not JSON: every item counts as refused with the status seen
    }
    long answered = System.nanoTime();
    for (int i = 0; i < size; i++) {
      String id = accepted.get(i);
      add(
          new Submission(
              batchKeys.get(i), id != null ? 202 : status, id, sent, answered, retryAfter));
    }
    return accepted.size() == size;
  }

  private void add(Submission submission) {
    submissions.add(submission);
    if (submission.confirmed()) {
      confirmedCount.incrementAndGet();
    }
  }

  List<Submission> submissions() {
    return List.copyOf(submissions);
  }

  long confirmedCount() {
    return confirmedCount.get();
  }

  /** Key to task id of every confirmed submission. */
  Map<String, String> confirmed() {
    Map<String, String> confirmed = new LinkedHashMap<>();
    submissions.stream().filter(Submission::confirmed).forEach(s -> confirmed.put(s.key(), s.id()));
    return confirmed;
  }

  /** The lines of the mark file so far; none before the first run wrote it. */
  private List<String> marksLines() {
    try {
      return Files.readAllLines(marks);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every run of this ledger's tasks so far, by key (scenarios may share a mark file). */
  Map<String, List<Run>> runs() {
    Map<String, List<Run>> runs = new HashMap<>();
    for (String line : marksLines()) {
      String[] f = line.split(" ");
      if (f.length == 3 && f[0].startsWith(scenario + "-")) {
        runs.computeIfAbsent(f[0], k -> new ArrayList<>())
            .add(new Run(f[0], f[1], Long.parseLong(f[2])));
      }
    }
    return runs;
  }

  /**
   * One traced run ({@code demo.mark} with {@code trace}): when it started and ended, in epoch
   * milliseconds; {@code end} is -1 when it never ended (its worker was killed).
   */
  record Span(String key, String taskId, long pid, long start, long end) {}

  /** Every traced run of this ledger's tasks so far. */
  List<Span> spans() {
    Map<String, long[]> byRun = new LinkedHashMap<>();
    Map<String, String[]> names = new HashMap<>();
    for (String line : marksLines()) {
      String[] f = line.split(" ");
      if (f.length == 5 && f[0].startsWith(scenario + "-")) {
        String run = f[1] + " " + f[2];
        long[] times = byRun.computeIfAbsent(run, r -> new long[] {-1, -1});
        times[f[3].equals("start") ? 0 : 1] = Long.parseLong(f[4]);
        names.put(run, f);
      }
    }
    List<Span> spans = new ArrayList<>();
    byRun.forEach(
        (run, times) -> {
          String[] f = names.get(run);
          spans.add(new Span(f[0], f[1], Long.parseLong(f[2]), times[0], times[1]));
        });
    return spans;
  }

  /** Runs by the process with this pid. */
  long runsBy(long pid) {
    return runs().values().stream().flatMap(List::stream).filter(r -> r.pid() == pid).count();
  }

  /** How many distinct confirmed tasks have run at least once. */
  long confirmedRun() {
    Map<String, List<Run>> runs = runs();
    return confirmed().keySet().stream().filter(runs::containsKey).count();
  }

  /** Waits until every confirmed task has run at least once; false if the deadline passed. */
  boolean awaitRuns(Duration timeout) {
    return Deadline.poll(timeout, () -> confirmedRun() == confirmedCount());
  }

  /**
   * The state of every confirmed task, polled until each is final or the deadline passes: key to
   * the last state seen ({@code "404"} for a task the producer does not know).
   */
  Map<String, String> awaitFinalStates(AppProcess producer, Duration timeout) {
    Map<String, String> ids = confirmed();
    Map<String, String> states = new HashMap<>();
    Set<String> pending = new HashSet<>(ids.keySet());
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      Deadline.poll(
          timeout,
          () -> {
            Map<String, Future<String>> asked = new HashMap<>();
            for (String key : pending) {
              asked.put(key, pool.submit(() -> state(producer, ids.get(key))));
            }
            asked.forEach(
                (key, state) -> {
                  try {
                    states.put(key, state.get());
                  } catch (Exception e) {
                    states.put(key, "error: " + e);
                  }
                  if (FINAL.contains(states.get(key))) {
                    pending.remove(key);
                  }
                });
            return pending.isEmpty();
          });
    }
    return states;
  }

  private static String state(AppProcess producer, String id) {
    Optional<JsonNode> task = producer.task(id);
    return task.map(t -> t.get("state").asString()).orElse("404");
  }

  /**
   * The counts of the scenario, once its tasks had {@code timeout} to finish. {@code expected}
   * tasks are those whose final state is not SUCCESS on purpose (none for demo.mark).
   */
  Counts count(AppProcess producer, Duration timeout) {
    long start = System.nanoTime();
    awaitRuns(timeout);
    long ran = System.nanoTime();
    Map<String, String> states = awaitFinalStates(producer, timeout);
    settled =
        String.format(
            java.util.Locale.ROOT,
            "all ran %.1f s and were recorded %.1f s after the fault",
            (ran - start) / 1e9,
            (System.nanoTime() - start) / 1e9);
    Map<String, List<Run>> runs = runs();
    Map<String, String> confirmed = confirmed();
    int completed = (int) states.values().stream().filter("SUCCESS"::equals).count();
    int lostRan =
        (int)
            confirmed.keySet().stream()
                .filter(k -> !"SUCCESS".equals(states.get(k)) && runs.containsKey(k))
                .count();
    Set<String> refusedKeys = new HashSet<>();
    submissions.stream().filter(s -> !s.confirmed()).forEach(s -> refusedKeys.add(s.key()));
    return new Counts(
        submissions.size(),
        confirmed.size(),
        refusedKeys.size(),
        completed,
        0,
        confirmed.size() - completed,
        lostRan,
        (int) runs.values().stream().filter(r -> r.size() > 1).count(),
        (int) refusedKeys.stream().filter(runs::containsKey).count(),
        notFinal(states));
  }

  /** How long the last {@link #count} waited for runs and for final states. */
  String settled() {
    return settled;
  }

  private static Map<String, Long> notFinal(Map<String, String> states) {
    Map<String, Long> byState = new java.util.TreeMap<>();
    states.values().stream()
        .filter(s -> !"SUCCESS".equals(s))
        .forEach(s -> byState.merge(s, 1L, Long::sum));
    return byState;
  }
}
