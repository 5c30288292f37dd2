package io.lovage.system.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.system.image.ComposeFile.Service;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** docker-compose.yml, checked without a Docker engine: what `docker compose up` relies on. */
class ComposeFileTest {
  private static final Pattern HEALTH_PORT =
      Pattern.compile("\\$\\{MICRONAUT_SERVER_PORT:-(\\d+)}/health");
  private static Path repository;
  private static ComposeFile compose;

  @BeforeAll
  static void read() throws Exception {
    repository = ComposeFile.repository();
    compose = ComposeFile.read(repository);
  }

  @Test
  void theSystemIsABrokerAProducerAndWorkersBuiltFromThisRepository() {
    assertEquals(
        List.of("rabbitmq", "producer", "worker"),
        compose.inProfile("").stream().map(Service::name).toList());
    assertEquals(
        List.of("producer", "worker"),
        compose.built().stream().filter(s -> s.profiles().isEmpty()).map(Service::name).toList());
  }

  @Test
  void theClusterProfileIsThreeNodesOfOneClusterAndAppsGivenEveryNode() throws Exception {
    List<Service> nodes =
        compose.inProfile("cluster").stream().filter(s -> s.dockerfile().isEmpty()).toList();
    assertEquals(
        List.of("rabbitmq-1", "rabbitmq-2", "rabbitmq-3"),
        nodes.stream().map(Service::name).toList());
    String clusterConf = Files.readString(repository.resolve("broker-config/cluster.conf"));
    assertTrue(clusterConf.contains("peer_discovery_backend = classic_config"));
    for (Service node : nodes) {
      assertEquals(node.name(), node.yaml().get("hostname"), node.name() + ": its node name");
      assertTrue(
          clusterConf.contains("= rabbit@" + node.name() + "\n"),
          "cluster.conf does not list rabbit@" + node.name());
      assertEquals(
          nodes.getFirst().environment().get("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"),
          node.environment().get("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"),
          node.name() + ": the nodes of one cluster share an Erlang cookie");
      assertTrue(
          node.list("volumes").stream().anyMatch(v -> v.contains("cluster.conf:")),
          node.name() + " is not given cluster.conf");
    }
    List<Service> apps = compose.built().stream().filter(s -> !s.profiles().isEmpty()).toList();
    assertEquals(
        List.of("producer-cluster", "worker-cluster"), apps.stream().map(Service::name).toList());
    for (Service app : apps) {
      assertEquals(
          "rabbitmq-1:5672,rabbitmq-2:5672,rabbitmq-3:5672",
          app.environment().get("RABBITMQ_ADDRESSES"),
          app.name() + " is not given every node");
    }
  }

  @Test
  void everyBuiltServiceHasItsDockerfileInTheRepository() {
    for (Service service : compose.built()) {
      Path dockerfile = repository.resolve(service.dockerfile().orElseThrow());
      assertTrue(Files.isRegularFile(dockerfile), service.name() + ": no " + dockerfile);
      assertEquals(
          ".",
          String.valueOf(service.map("build").orElseThrow().get("context")),
          service.name() + ": the Dockerfiles copy module paths relative to the repository root");
    }
  }

  @Test
  void everyServiceHasAHealthcheckInTheComposeFileOrInItsDockerfile() throws Exception {
    for (Service service : compose.services().values()) {
      boolean inCompose = service.has("healthcheck");
      boolean inDockerfile =
          service.dockerfile().isPresent()
              && dockerfile(service).runtime().last("HEALTHCHECK").isPresent();
      assertTrue(inCompose || inDockerfile, service.name() + " has no healthcheck");
    }
  }

  @Test
  void servicesStartOnlyOnceWhatTheyDependOnIsHealthy() {
    for (Service service : compose.services().values()) {
      Map<String, Object> dependsOn = service.map("depends_on").orElse(Map.of());
      for (var dependency : dependsOn.entrySet()) {
        Map<String, Object> condition = ComposeFile.asMap(dependency.getValue());
        assertEquals(
            "service_healthy",
            condition.get("condition"),
            service.name() + " must wait for " + dependency.getKey() + " to be healthy");
        assertTrue(
            compose.service(dependency.getKey()).has("healthcheck"),
            dependency.getKey() + " is waited for but has no healthcheck in the compose file");
      }
    }
    assertTrue(compose.service("producer").map("depends_on").orElseThrow().containsKey("rabbitmq"));
    assertTrue(compose.service("worker").map("depends_on").orElseThrow().containsKey("rabbitmq"));
  }

  @Test
  void theScaledWorkerHasNoFixedContainerNameNorHostPort() {
    Service worker = compose.service("worker");
    assertFalse(worker.has("container_name"), "--scale worker=N needs N container names");
    assertFalse(worker.has("ports"), "--scale worker=N cannot bind one host port N times");
  }

  @Test
  void theAppsReachTheBrokerByItsServiceName() {
    for (Service service : compose.built()) {
      String uri = service.environment().get("RABBITMQ_URI");
      assertTrue(uri != null, service.name() + " has no RABBITMQ_URI");
      assertTrue(
          compose.services().containsKey(URI.create(uri).getHost()),
          service.name() + ": " + uri + " names no service of the compose file");
    }
  }

  @Test
  void theAppsListenOnThePortTheirImageExposesAndChecks() throws Exception {
    for (Service service : compose.built()) {
      Dockerfile.Stage runtime = dockerfile(service).runtime();
      String exposed = runtime.last("EXPOSE").orElseThrow().arguments().strip();
      Matcher health = HEALTH_PORT.matcher(runtime.last("HEALTHCHECK").orElseThrow().arguments());
      assertTrue(health.find(), service.name() + ": HEALTHCHECK does not call /health");
      assertEquals(exposed, health.group(1), service.name() + ": EXPOSE and HEALTHCHECK differ");
      String port = service.environment().getOrDefault("MICRONAUT_SERVER_PORT", exposed);
      assertEquals(
          exposed, port, service.name() + ": MICRONAUT_SERVER_PORT is not the exposed one");
      for (String mapping : service.list("ports")) {
        assertTrue(mapping.endsWith(":" + exposed), service.name() + " publishes " + mapping);
      }
    }
  }

  @Test
  void theAppsConnectAsTheirOwnUserWithThePasswordInAFileAndOnlyVerifyTheTopology()
      throws Exception {
    for (Service service : compose.built()) {
      Map<String, String> env = service.environment();
      URI uri = URI.create(env.get("RABBITMQ_URI"));
      String role = service.name().startsWith("producer") ? "producer" : "worker";
      assertEquals("lovage-" + role, uri.getUserInfo(), service.name() + ": no password in it");
      assertEquals("/run/lovage-secrets/" + role, env.get("RABBITMQ_PASSWORD_FILE"));
      assertEquals("verify", env.get("LOVAGE_TOPOLOGY"), service.name());
      assertTrue(
          service.list("volumes").stream().anyMatch(v -> v.endsWith(":/run/lovage-secrets:ro")),
          service.name() + " does not mount the secrets read-only");
    }
    String definitions = Files.readString(repository.resolve("broker-config/definitions.json"));
    assertTrue(definitions.contains("\"users\": []"), "definitions.json defines users");
    assertFalse(definitions.contains("guest"), "definitions.json mentions guest");
  }

  @Test
  void everyBrokerNodeMakesTheUsersBeforeItIsHealthy() {
    for (Service node : compose.services().values()) {
      if (node.dockerfile().isPresent()) {
        continue;
      }
      assertTrue(
          node.list("volumes")
              .contains("./broker-config/lovage-users.sh:/etc/lovage/lovage-users.sh:ro"),
          node.name());
      assertTrue(
          String.valueOf(node.list("entrypoint")).contains("/etc/lovage/broker-start.sh"),
          node.name() + " does not start through broker-start.sh");
    }
  }

  @Test
  void everyFileMountedIntoTheBrokerIsInTheRepository() {
    for (Service broker : compose.services().values()) {
      for (String volume : broker.list("volumes")) {
        String source = volume.split(":")[0];
        if (source.startsWith(".")) {
          assertTrue(Files.isRegularFile(repository.resolve(source)), "no " + source);
        }
      }
    }
  }

  private static Dockerfile dockerfile(Service service) throws Exception {
    return Dockerfile.read(repository.resolve(service.dockerfile().orElseThrow()));
  }
}
