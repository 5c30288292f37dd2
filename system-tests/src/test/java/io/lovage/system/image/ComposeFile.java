package io.lovage.system.image;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.Yaml;

/** {@code docker-compose.yml} as data: its services and what each says. */
public record ComposeFile(Path directory, Map<String, Service> services) {

  /** One service of the compose file, its YAML as read. */
  public record Service(String name, Map<String, Object> yaml) {
    public Optional<Map<String, Object>> map(String key) {
      return Optional.ofNullable(asMap(yaml.get(key)));
    }

    public List<String> list(String key) {
      Object value = yaml.get(key);
      return value == null ? List.of() : ((List<?>) value).stream().map(String::valueOf).toList();
    }

    /** The profiles it is started in; none: it is always started. */
    public List<String> profiles() {
      return list("profiles");
    }

    public boolean has(String key) {
      return yaml.containsKey(key);
    }

    /** The Dockerfile it is built from, relative to the compose file's directory. */
    public Optional<String> dockerfile() {
      return map("build")
          .map(
              build ->
                  Path.of(String.valueOf(build.getOrDefault("context", ".")))
                      .resolve(String.valueOf(build.getOrDefault("dockerfile", "Dockerfile")))
                      .normalize()
                      .toString());
    }

    /** Its environment, whether written as a map or as a list of {@code KEY=value}. */
    public Map<String, String> environment() {
      Object value = yaml.get("environment");
      Map<String, String> env = new LinkedHashMap<>();
      if (value instanceof Map<?, ?> map) {
        map.forEach((k, v) -> env.put(String.valueOf(k), String.valueOf(v)));
      } else if (value instanceof List<?> list) {
        for (Object entry : list) {
          String[] kv = String.valueOf(entry).split("=", 2);
          env.put(kv[0], kv.length > 1 ? kv[1] : "");
        }
      }
      return env;
    }
  }

  public static ComposeFile read(Path repository) throws IOException {
    Path file = repository.resolve("docker-compose.yml");
    Map<String, Object> yaml;
    try (Reader reader = Files.newBufferedReader(file)) {
      yaml = new Yaml().load(reader);
    }
    Map<String, Service> services = new LinkedHashMap<>();
    asMap(yaml.get("services"))
        .forEach((name, body) -> services.put(name, new Service(name, asMap(body))));
    return new ComposeFile(repository, services);
  }

  public Service service(String name) {
    Service service = services.get(name);
    if (service == null) {
      throw new AssertionError("docker-compose.yml has no service " + name);
    }
    return service;
  }

  /** The services of a profile ({@code ""}: those that {@code docker compose up} starts). */
  public List<Service> inProfile(String profile) {
    return services.values().stream()
        .filter(s -> profile.isEmpty() ? s.profiles().isEmpty() : s.profiles().contains(profile))
        .toList();
  }

  /** The services built from a Dockerfile of this repository. */
  public List<Service> built() {
    return services.values().stream().filter(s -> s.dockerfile().isPresent()).toList();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> asMap(Object value) {
    return (Map<String, Object>) value;
  }

  /** The repository's root: the compose file, the Dockerfiles' build context. */
  public static Path repository() {
    return Path.of(System.getProperty("lovage.repository", "..")).toAbsolutePath().normalize();
  }
}
