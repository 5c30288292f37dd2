package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.service.Problem;
import io.lovage.service.openapi.Undocumented;
import io.micronaut.context.ApplicationContext;
import io.micronaut.http.HttpMethod;
import io.micronaut.runtime.server.EmbeddedServer;
import io.micronaut.web.router.Router;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/** {@code /openapi.yml}, {@code /openapi.json} and the Swagger UI page at {@code /docs}. */
class ApiDocumentationTest {
  private static final HttpClient http = HttpClient.newHttpClient();
  private static EmbeddedServer server;

  @BeforeAll
  static void start() {
    server = start(Map.of());
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void theOpenApiDocumentIsValidOpenApi30AndTheSameInYamlAndJson() throws Exception {
    HttpResponse<String> yaml = get(server, "/openapi.yml");
    HttpResponse<String> json = get(server, "/openapi.json");

    assertEquals(200, yaml.statusCode());
    assertEquals("application/yaml", contentType(yaml));
    assertEquals("application/json", contentType(json));
    SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(yaml.body());
    assertEquals(List.of(), parsed.getMessages());
    assertEquals("3.0.3", parsed.getOpenAPI().getOpenapi());
    assertEquals("lovage-producer", parsed.getOpenAPI().getInfo().getTitle());
    assertEquals(
        YAMLMapper.builder().build().readTree(yaml.body()), Json.MAPPER.readTree(json.body()));
  }

  @Test
  void theOpenApiDocumentListsEveryRouteOfTheServiceWithItsMethod() throws Exception {
    Set<String> documented = operations(document(server)).keySet();

    assertEquals(
        new TreeSet<>(
            List.of(
                "POST /tasks",
                "POST /tasks/batch",
                "GET /tasks",
                "GET /tasks/{id}",
                "DELETE /tasks/{id}",
                "POST /workflows",
                "GET /workflows/{id}",
                "GET /dead-letters",
                "GET /dead-letters/{id}",
                "POST /dead-letters/{id}/replay",
                "DELETE /dead-letters/{id}",
                "POST /dead-letters/replay",
                "DELETE /dead-letters",
                "GET /queues",
                "GET /workers",
                "GET /workers/{hostname}",
                "POST /workers/{hostname}/shutdown",
                "POST /workers/{hostname}/queues",
                "POST /schedules",
                "GET /schedules",
                "GET /schedules/{name}",
                "PUT /schedules/{name}",
                "DELETE /schedules/{name}",
                "GET /limits",
                "GET /limits/{task}",
                "PUT /limits/{task}",
                "DELETE /limits/{task}",
                "POST /schedules/{name}/run",
                "GET /schedules/{name}/runs",
                "GET /health",
                "GET /prometheus")),
        new TreeSet<>(documented));
    // ...and that is every route the router has, but the documentation's own and the HEADs
    // Micronaut adds to every GET.
    Set<String> routes =
        server
            .getApplicationContext()
            .getBean(Router.class)
            .uriRoutes()
            .filter(r -> r.getHttpMethod() != HttpMethod.HEAD)
            .filter(r -> !r.getAnnotationMetadata().hasAnnotation(Undocumented.class))
            .map(r -> r.getHttpMethodName() + " " + r.getUriMatchTemplate())
            .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(routes, new TreeSet<>(documented));
  }

  @Test
  void everyOperationHasASummaryAndASuccessAnswer() throws Exception {
    operations(document(server))
        .forEach(
            (operation, spec) -> {
              assertFalse(spec.path("summary").asString("").isBlank(), operation);
              assertTrue(
                  spec.get("responses").propertyNames().stream().anyMatch(s -> s.startsWith("2")),
                  operation);
            });
  }

  @Test
  void thePostTasksBodySchemaIsTheFieldsThatTheSubmissionParserAccepts() throws Exception {
    JsonNode doc = document(server);
    JsonNode request = operations(doc).get("POST /tasks").get("requestBody");
    assertEquals(
        "#/components/schemas/TaskSubmission",
        request.at("/content/application~1json/schema/$ref").asString());
    JsonNode schema = doc.at("/components/schemas/TaskSubmission");
    assertEquals("[\"task\"]", schema.get("required").toString());
    assertTrue(schema.at("/properties/task/pattern").isString());

    for (String field : schema.get("properties").propertyNames()) {
      // null counts as absent, so only an unknown name could fail here.
      ObjectNode body = Json.MAPPER.createObjectNode().putNull(field).put("task", "demo.add");
      TaskSubmission.parse(Json.MAPPER.writeValueAsString(body));
    }
    var unknown =
        assertThrows(
            TaskSubmission.Invalid.class,
            () -> TaskSubmission.parse("{\"task\": \"demo.add\", \"callback\": 1}"));
    assertEquals("/callback", unknown.problem.pointer());
    assertEquals(
        "#/components/schemas/TaskSubmission",
        doc.at("/components/schemas/TaskBatch/items/$ref").asString());
  }

  @Test
  void thePostWorkflowsBodySchemaIsEveryFormAndItsTaskFieldsAreWhatTheParserAccepts()
      throws Exception {
    JsonNode doc = document(server);
    JsonNode request = operations(doc).get("POST /workflows").get("requestBody");
    assertEquals(
        "#/components/schemas/Workflow",
        request.at("/content/application~1json/schema/$ref").asString());
    JsonNode forms = doc.at("/components/schemas/Workflow/oneOf");
    assertEquals(5, forms.size(), forms.toString());
    assertEquals(
        "#/components/schemas/Workflow",
        doc.at("/components/schemas/Workflow/oneOf/1/properties/chain/items/$ref").asString());
    assertTrue(doc.at("/components/schemas/CelerySignature/properties/subtask_type").isObject());

    JsonNode task = doc.at("/components/schemas/WorkflowTask");
    assertEquals("[\"task\"]", task.get("required").toString());
    for (String field : task.get("properties").propertyNames()) {
      ObjectNode leaf = Json.MAPPER.createObjectNode().putNull(field).put("task", "demo.add");
      WorkflowSubmission.parse("{\"chain\": [" + Json.MAPPER.writeValueAsString(leaf) + "]}");
    }
    var unknown =
        assertThrows(
            TaskSubmission.Invalid.class,
            () -> WorkflowSubmission.parse("{\"chain\": [{\"task\": \"demo.add\", \"eta\": 1}]}"));
    assertEquals("/chain/0/eta", unknown.problem.pointer());
  }

  @Test
  void errorAnswersReferToTheProblemSchemaWhichDescribesEveryProblemField() throws Exception {
    JsonNode doc = document(server);
    List<String> errors = new ArrayList<>();
    operations(doc)
        .forEach(
            (operation, spec) ->
                spec.get("responses")
                    .properties()
                    .forEach(
                        response -> {
                          if (response.getKey().compareTo("400") >= 0
                              && !operation.equals("GET /health")) {
                            errors.add(operation + " " + response.getKey());
                            assertEquals(
                                "#/components/schemas/Problem",
                                response
                                    .getValue()
                                    .at("/content/application~1problem+json/schema/$ref")
                                    .asString(),
                                operation + " " + response.getKey());
                          }
                        }));
    assertTrue(errors.contains("POST /tasks 400"), errors.toString());
    assertTrue(errors.contains("POST /tasks 413"), errors.toString());
    assertTrue(errors.contains("POST /tasks 415"), errors.toString());
    assertTrue(errors.contains("POST /tasks 429"), errors.toString());
    assertTrue(errors.contains("DELETE /tasks/{id} 409"), errors.toString());
    assertTrue(errors.contains("GET /tasks/{id} 404"), errors.toString());
    assertTrue(errors.contains("POST /workflows 400"), errors.toString());
    assertTrue(errors.contains("POST /workflows 413"), errors.toString());
    assertTrue(errors.contains("GET /workflows/{id} 404"), errors.toString());
    assertTrue(errors.contains("GET /queues 503"), errors.toString());

    JsonNode problem = doc.at("/components/schemas/Problem/properties");
    for (String field : Problem.badRequest("/task", "bad").body().propertyNames()) {
      assertTrue(problem.has(field), field);
    }
  }

  @Test
  void withoutAnApiKeyTheDocumentDeclaresNoAuthentication() throws Exception {
    JsonNode doc = document(server);

    assertTrue(doc.path("security").isMissingNode());
    assertTrue(doc.at("/components/securitySchemes").isMissingNode());
    assertFalse(operations(doc).get("GET /tasks").get("responses").has("401"));
  }

  @Test
  void withAnApiKeyTheDocumentDeclaresBearerAuthAndTheDocsStayOpen() throws Exception {
    try (EmbeddedServer secured = start(Map.of("lovage.api.key", "s3cret"))) {
      assertEquals(401, get(secured, "/tasks").statusCode());
      assertEquals(401, get(secured, "/no-such-path").statusCode());
      for (String open :
          List.of("/openapi.yml", "/openapi.json", "/docs", "/docs/swagger-ui/swagger-ui.css")) {
        assertEquals(200, get(secured, open).statusCode(), open);
      }

      JsonNode doc = document(secured);
      assertEquals("bearer", doc.at("/components/securitySchemes/apiKey/scheme").asString());
      assertEquals("[{\"apiKey\":[]}]", doc.get("security").toString());
      Map<String, JsonNode> operations = operations(doc);
      assertEquals("[]", operations.get("GET /health").get("security").toString());
      assertTrue(operations.get("GET /tasks").path("security").isMissingNode());
      assertTrue(operations.get("GET /tasks").get("responses").has("401"));
      assertFalse(operations.get("GET /health").get("responses").has("401"));
    }
  }

  @Test
  void theDocsPageLoadsSwaggerUiOnTheDocumentFromTheServiceItself() throws Exception {
    HttpResponse<String> page = get(server, "/docs");

    assertEquals(200, page.statusCode());
    assertTrue(contentType(page).startsWith("text/html"), contentType(page));
    assertTrue(page.body().contains("url: \"/openapi.yml\""), page.body());
    Matcher links = Pattern.compile("(?:src|href)=\"([^\"]+)\"").matcher(page.body());
    List<String> loaded = new ArrayList<>();
    while (links.find()) {
      loaded.add(links.group(1));
    }
    assertTrue(loaded.contains("/docs/swagger-ui/swagger-ui-bundle.js"), loaded.toString());
    assertTrue(loaded.contains("/docs/swagger-ui/swagger-ui.css"), loaded.toString());
    for (String path : loaded) {
      assertTrue(path.startsWith("/docs/swagger-ui/"), path + " is not from the jar");
      assertEquals(200, get(server, path).statusCode(), path);
    }
  }

  @Test
  void swaggerUiFilesAreServedFromTheJarWithTheirContentTypes() throws Exception {
    HttpResponse<String> bundle = get(server, "/docs/swagger-ui/swagger-ui-bundle.js");
    HttpResponse<String> css = get(server, "/docs/swagger-ui/swagger-ui.css");

    assertEquals(200, bundle.statusCode());
    assertTrue(contentType(bundle).contains("javascript"), contentType(bundle));
    assertTrue(bundle.body().contains("SwaggerUIBundle"));
    assertEquals(200, css.statusCode());
    assertTrue(contentType(css).startsWith("text/css"), contentType(css));
  }

  @Test
  void onlyTheFilesThePageLoadsAreServed() throws Exception {
    // index.html of the webjar would load its demo document from the internet.
    for (String path :
        List.of(
            "/docs/swagger-ui/index.html",
            "/docs/swagger-ui/swagger-initializer.js",
            "/docs/swagger-ui/..%2F..%2F..%2Fmaven%2Forg.webjars%2Fswagger-ui%2Fpom.properties")) {
      HttpResponse<String> response = get(server, path);
      assertEquals(404, response.statusCode(), path);
      assertEquals(Problem.MEDIA_TYPE, contentType(response), path);
    }
  }

  private static EmbeddedServer start(Map<String, Object> properties) {
    Map<String, Object> all = new HashMap<>(properties);
    all.put("micronaut.server.port", -1);
    all.put(InMemoryBrokerFactory.PROPERTY, "true");
    return ApplicationContext.run(EmbeddedServer.class, all);
  }

  private static HttpResponse<String> get(EmbeddedServer on, String path)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(on.getURL() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode document(EmbeddedServer on) throws Exception {
    HttpResponse<String> response = get(on, "/openapi.json");
    assertEquals(200, response.statusCode(), response.body());
    return Json.MAPPER.readTree(response.body());
  }

  /** "GET /tasks/{id}" to its operation. */
  private static Map<String, JsonNode> operations(JsonNode doc) {
    Map<String, JsonNode> operations = new HashMap<>();
    doc.get("paths")
        .properties()
        .forEach(
            path ->
                path.getValue()
                    .properties()
                    .forEach(
                        op ->
                            operations.put(
                                op.getKey().toUpperCase(java.util.Locale.ROOT)
                                    + " "
                                    + path.getKey(),
                                op.getValue())));
    assertNotNull(operations.get("GET /health"));
    return operations;
  }

  private static String contentType(HttpResponse<?> response) {
    return response.headers().firstValue("Content-Type").orElse("");
  }
}
