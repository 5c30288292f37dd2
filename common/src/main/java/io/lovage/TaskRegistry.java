package io.lovage;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The tasks a worker can run, by name. Immutable once built.
 *
 * <pre>{@code
 * TaskRegistry tasks = TaskRegistry.builder()
 *     .register("demo.add", call -> call.arg(0, "x", long.class) + call.arg(1, "y", long.class))
 *     .build();
 * }</pre>
 */
public final class TaskRegistry {
  private final Map<String, TaskDefinition> tasks;

  /** A task and how it runs. */
  public record TaskDefinition(String name, Task task, TaskOptions options) {}

  private TaskRegistry(Map<String, TaskDefinition> tasks) {
    this.tasks = Collections.unmodifiableMap(new LinkedHashMap<>(tasks));
  }

  public static Builder builder() {
    return new Builder();
  }

  public Optional<TaskDefinition> find(String name) {
    return Optional.ofNullable(tasks.get(name));
  }

  public Set<String> names() {
    return tasks.keySet();
  }

  /** Collects tasks; a name registered twice is a mistake and fails at once. */
  public static final class Builder {
    private final Map<String, TaskDefinition> tasks = new LinkedHashMap<>();

    public Builder register(String name, Task task) {
      return register(name, task, TaskOptions.DEFAULT);
    }

    /** Registers a task with options, e.g. automatic retries. */
    public Builder register(String name, Task task, TaskOptions options) {
      if (name == null || name.isBlank()) {
        throw new IllegalArgumentException("a task needs a name");
      }
      if (tasks.putIfAbsent(name, new TaskDefinition(name, task, options)) != null) {
        throw new IllegalStateException("task " + name + " is registered twice");
      }
      return this;
    }

    /** Registers every task of {@code other}, with its options. */
    public Builder registerAll(TaskRegistry other) {
      other.tasks.values().forEach(d -> register(d.name(), d.task(), d.options()));
      return this;
    }

    /** Registers a task unless one of that name is registered already (built-in defaults). */
    public Builder registerIfAbsent(String name, Task task) {
      return tasks.containsKey(name) ? this : register(name, task);
    }

    /** Registers every {@link TaskHandler} method of {@code target}. */
    public Builder registerAnnotated(Object target) {
      MethodTask.registerAll(target, this);
      return this;
    }

    public TaskRegistry build() {
      return new TaskRegistry(tasks);
    }
  }
}
