package io.lovage.service.openapi;

import io.lovage.protocol.Json;
import io.lovage.service.ApiKeyCheck;
import io.lovage.service.Problem;
import io.lovage.service.WithoutApiKey;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.AnnotationMetadata;
import io.micronaut.core.annotation.AnnotationValue;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.server.HttpServerConfiguration;
import io.micronaut.inject.ExecutableMethod;
import io.micronaut.web.router.Router;
import io.micronaut.web.router.UriRouteInfo;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.InputStream;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The OpenAPI 3.0 document of this service, read from its routes when first asked for: every route
 * but the {@link Undocumented} ones, with the parameters its method binds, the media types it
 * consumes and produces, and the words of its {@link ApiDoc}. Nothing is written by hand twice, so
 * the document cannot drift from the code.
 */
@Singleton
final class OpenApiDocument {
  static final String OPENAPI_VERSION = "3.0.3";
  static final String PROBLEM = "Problem";
  private static final String SECURITY_SCHEME = "apiKey";
  // {+path}, {id:[0-9]+} -> {path}, {id}; query templates such as {?x,y} are not part of a path.
  private static final Pattern PATH_VARIABLE = Pattern.compile("\\{[+#./;]?([^}:*]+)[^}]*}");
  private static final Pattern QUERY_TEMPLATE = Pattern.compile("\\{[?&][^}]*}");

  private final ObjectNode document;

  OpenApiDocument(
      Router router,
      List<SchemaSource> schemaSources,
      @Nullable ApiKeyCheck apiKey,
      HttpServerConfiguration server,
      @Value("${micronaut.application.name:lovage}") String title) {
    ObjectNode schemas = schemas(schemaSources);
    document = Json.MAPPER.createObjectNode();
    document.put("openapi", OPENAPI_VERSION);
    document
        .putObject("info")
        .put("title", title)
        .put("version", lovageVersion())
        .put(
            "description",
            "Every route of this service, read from its code at run time. Errors are RFC 9457"
                + " `application/problem+json` documents.");
    Map<String, ObjectNode> paths = new TreeMap<>();
    for (UriRouteInfo<?, ?> route : documentedRoutes(router)) {
      paths
          .computeIfAbsent(path(route), p -> Json.MAPPER.createObjectNode())
          .set(
              route.getHttpMethodName().toLowerCase(Locale.ROOT),
              operation(route, schemas, apiKey, server.getMaxRequestSize()));
    }
    document.putObject("paths").setAll(paths);
    ObjectNode components = document.putObject("components");
    components.set("schemas", schemas);
    if (apiKey != null) {
      components
          .putObject("securitySchemes")
          .putObject(SECURITY_SCHEME)
          .put("type", "http")
          .put("scheme", "bearer")
          .put("description", "`Authorization: Bearer <key>`, " + apiKey.description());
      document.putArray("security").addObject().putArray(SECURITY_SCHEME);
    }
  }

  /** {@code Problem} and the schemas of the {@link SchemaSource} beans, by name. */
  private static ObjectNode schemas(List<SchemaSource> sources) {
    ObjectNode schemas = Json.MAPPER.createObjectNode();
    schemas.set(PROBLEM, Problem.jsonSchema());
    sources.stream()
        .flatMap(source -> source.schemas().entrySet().stream())
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              if (schemas.has(e.getKey())) {
                throw new IllegalStateException("two schemas are named '" + e.getKey() + "'");
              }
              schemas.set(e.getKey(), e.getValue().deepCopy());
            });
    return schemas;
  }

  /**
   * The routes but the {@link Undocumented} ones and the HEAD that Micronaut adds to every GET, by
   * path and method, each once.
   */
  private static List<UriRouteInfo<?, ?>> documentedRoutes(Router router) {
    Set<ExecutableMethod<?, ?>> gets =
        router
            .uriRoutes()
            .filter(route -> route.getHttpMethod() == HttpMethod.GET)
            .map(route -> route.getTargetMethod().getExecutableMethod())
            .collect(Collectors.toSet());
    Map<String, UriRouteInfo<?, ?>> routes = new HashMap<>();
    router
        .uriRoutes()
        .filter(route -> !route.getAnnotationMetadata().hasAnnotation(Undocumented.class))
        .filter(
            route ->
                route.getHttpMethod() != HttpMethod.HEAD
                    || !gets.contains(route.getTargetMethod().getExecutableMethod()))
        .forEach(
            route -> {
              // The router may list a route more than once; two methods on one route is a mistake.
              String where = route.getHttpMethodName() + " " + path(route);
              UriRouteInfo<?, ?> before = routes.putIfAbsent(where, route);
              if (before != null
                  && !before
                      .getTargetMethod()
                      .getExecutableMethod()
                      .equals(route.getTargetMethod().getExecutableMethod())) {
                throw new IllegalStateException(
                    "two routes for "
                        + where
                        + ": "
                        + before.getTargetMethod()
                        + ", "
                        + route.getTargetMethod());
              }
            });
    return routes.values().stream()
        .sorted(
            Comparator.<UriRouteInfo<?, ?>, String>comparing(OpenApiDocument::path)
                .thenComparing(route -> route.getHttpMethod().ordinal()))
        .toList();
  }

  /** A new copy of the document. */
  ObjectNode json() {
    return document.deepCopy();
  }

  static String path(UriRouteInfo<?, ?> route) {
    String template = QUERY_TEMPLATE.matcher(route.getUriMatchTemplate().toString()).replaceAll("");
    String path = PATH_VARIABLE.matcher(template).replaceAll("{$1}");
    return path.isEmpty() ? "/" : path;
  }

  private static ObjectNode operation(
      UriRouteInfo<?, ?> route, ObjectNode schemas, ApiKeyCheck apiKey, long maxRequestSize) {
    String where = route.getHttpMethodName() + " " + path(route);
    AnnotationValue<ApiDoc> doc = route.getAnnotationMetadata().getAnnotation(ApiDoc.class);
    if (doc == null) {
      doc = AnnotationValue.builder(ApiDoc.class).build();
    }
    ObjectNode operation = Json.MAPPER.createObjectNode();
    String controller = route.getDeclaringType().getSimpleName().replaceFirst("Controller$", "");
    operation.putArray("tags").add(words(controller));
    String method = route.getTargetMethod().getMethodName();
    operation.put(
        "operationId",
        Character.toLowerCase(controller.charAt(0))
            + controller.substring(1)
            + Character.toUpperCase(method.charAt(0))
            + method.substring(1));
    text(doc, "summary").ifPresent(summary -> operation.put("summary", summary));
    text(doc, "description").ifPresent(description -> operation.put("description", description));

    Map<String, ObjectNode> responses = new TreeMap<>();
    boolean hasBody = false;
    for (Argument<?> argument : route.getTargetMethod().getArguments()) {
      AnnotationMetadata a = argument.getAnnotationMetadata();
      if (a.hasAnnotation(Body.class)) {
        hasBody = true;
        ObjectNode schema =
            text(doc, "requestBody")
                .map(name -> namedSchema(name, schemas, where))
                .orElseGet(() -> schemaOf(argument));
        ObjectNode body =
            operation.putObject("requestBody").put("required", !argument.isNullable());
        ObjectNode content = body.putObject("content");
        for (MediaType type : consumes(route)) {
          content.putObject(type.toString()).set("schema", schema);
        }
      } else if (a.hasAnnotation(PathVariable.class)) {
        parameter(operation, "path", name(a, PathVariable.class, argument), argument, true);
      } else if (a.hasAnnotation(QueryValue.class)) {
        // defaultValue = "" only makes a parameter optional: there is no default to show.
        var defaultValue =
            a.stringValue(QueryValue.class, "defaultValue").filter(d -> !d.isEmpty());
        boolean required = a.stringValue(QueryValue.class, "defaultValue").isEmpty();
        ObjectNode parameter =
            parameter(
                operation,
                "query",
                name(a, QueryValue.class, argument),
                argument,
                required && !argument.isNullable());
        defaultValue.ifPresent(
            d -> ((ObjectNode) parameter.get("schema")).set("default", typed(d, argument)));
      } else if (a.hasAnnotation(Header.class)) {
        parameter(
            operation, "header", name(a, Header.class, argument), argument, !argument.isNullable());
      }
    }

    for (AnnotationValue<ApiResponse> r : doc.getAnnotations("responses", ApiResponse.class)) {
      int status = r.intValue("status").orElseThrow();
      String description = text(r, "description").orElse("");
      ObjectNode response =
          status >= 400 && r.booleanValue("problem").orElse(true)
              ? problem(description, where)
              : response(status, description, route.getProduces(), where);
      text(r, "schema")
          .ifPresent(
              name -> {
                for (JsonNode media : response.path("content")) {
                  ((ObjectNode) media).set("schema", namedSchema(name, schemas, where));
                }
              });
      String[] headers = r.stringValues("headers");
      if (headers.length > 0) {
        ObjectNode h = response.putObject("headers");
        for (String header : headers) {
          h.putObject(header).putObject("schema").put("type", "string");
        }
      }
      responses.put(String.valueOf(status), response);
    }
    // The framework's own answers, from the route and the server's settings.
    if (!responses.containsKey("400") && hasNumericParameter(operation)) {
      responses.put("400", problem("a parameter that should be a number is not", where));
    }
    if (hasBody) {
      responses.put(
          "413",
          problem(
              "the body is larger than " + maxRequestSize + " bytes; refused before it is read",
              where));
      if (!route.getConsumes().isEmpty()) {
        responses.put(
            "415",
            problem(
                "Content-Type is not "
                    + String.join(
                        " or ", consumes(route).stream().map(MediaType::toString).toList()),
                where));
      }
    }
    if (route.getAnnotationMetadata().hasAnnotation(WithoutApiKey.class)) {
      if (apiKey != null) {
        operation.putArray("security");
      }
    } else if (apiKey != null) {
      responses.put("401", problem("no `Authorization: Bearer <key>` with the right key", where));
    }
    if (responses.isEmpty()) {
      // OpenAPI needs one answer at least; a route with no @ApiDoc shows, with no summary.
      responses.put(
          "default",
          Json.MAPPER.createObjectNode().put("description", "not documented: no @ApiDoc"));
    }
    operation.putObject("responses").setAll(responses);
    return operation;
  }

  private static ObjectNode response(
      int status, String description, List<MediaType> produces, String where) {
    ObjectNode response = described(description, where);
    if (status != HttpStatus.NO_CONTENT.getCode() && status >= 200) {
      ObjectNode content = response.putObject("content");
      produces.forEach(type -> content.putObject(type.toString()));
    }
    return response;
  }

  private static ObjectNode problem(String description, String where) {
    ObjectNode response = described(description, where);
    response
        .putObject("content")
        .putObject(Problem.MEDIA_TYPE)
        .set("schema", JsonSchema.ref(PROBLEM));
    return response;
  }

  private static ObjectNode described(String description, String where) {
    if (description.isEmpty()) {
      throw new IllegalStateException("an answer of " + where + " has no description");
    }
    return Json.MAPPER.createObjectNode().put("description", description);
  }

  private static boolean hasNumericParameter(ObjectNode operation) {
    for (JsonNode parameter : operation.path("parameters")) {
      String type = parameter.at("/schema/type").asString("");
      if (type.equals("integer") || type.equals("number")) {
        return true;
      }
    }
    return false;
  }

  private static ObjectNode parameter(
      ObjectNode operation, String in, String name, Argument<?> argument, boolean required) {
    ArrayNode parameters =
        operation.has("parameters")
            ? (ArrayNode) operation.get("parameters")
            : operation.putArray("parameters");
    ObjectNode parameter = parameters.addObject();
    parameter.put("name", name).put("in", in).put("required", required);
    parameter.set("schema", schemaOf(argument));
    return parameter;
  }

  private static String name(
      AnnotationMetadata metadata,
      Class<? extends java.lang.annotation.Annotation> binding,
      Argument<?> argument) {
    return metadata.stringValue(binding).filter(n -> !n.isEmpty()).orElse(argument.getName());
  }

  /** An annotation member that is set and not empty. */
  private static Optional<String> text(AnnotationValue<?> annotation, String member) {
    return annotation.stringValue(member).filter(value -> !value.isEmpty());
  }

  private static ObjectNode namedSchema(String name, ObjectNode schemas, String where) {
    if (!schemas.has(name)) {
      throw new IllegalStateException(
          where + " names schema '" + name + "', which no SchemaSource bean gives");
    }
    return JsonSchema.ref(name);
  }

  private static List<MediaType> consumes(UriRouteInfo<?, ?> route) {
    return route.getConsumes().isEmpty()
        ? List.of(MediaType.APPLICATION_JSON_TYPE)
        : route.getConsumes();
  }

  /** The schema of a parameter's Java type. */
  private static ObjectNode schemaOf(Argument<?> argument) {
    Class<?> type = argument.getWrapperType();
    ObjectNode schema = Json.MAPPER.createObjectNode();
    if (type == Integer.class || type == Short.class) {
      return schema.put("type", "integer").put("format", "int32");
    }
    if (type == Long.class) {
      return schema.put("type", "integer").put("format", "int64");
    }
    if (type == Double.class || type == Float.class) {
      return schema.put("type", "number");
    }
    if (type == Boolean.class) {
      return schema.put("type", "boolean");
    }
    return schema.put("type", "string");
  }

  private static JsonNode typed(String value, Argument<?> argument) {
    Class<?> type = argument.getWrapperType();
    if (type == Integer.class || type == Short.class || type == Long.class) {
      return Json.MAPPER.getNodeFactory().numberNode(Long.parseLong(value));
    }
    if (type == Double.class || type == Float.class) {
      return Json.MAPPER.getNodeFactory().numberNode(Double.parseDouble(value));
    }
    if (type == Boolean.class) {
      return Json.MAPPER.getNodeFactory().booleanNode(Boolean.parseBoolean(value));
    }
    return Json.MAPPER.getNodeFactory().stringNode(value);
  }

  /** "DeadLetter" -> "Dead letter". */
  private static String words(String camelCase) {
    String spaced = camelCase.replaceAll("(?<=[a-z0-9])(?=[A-Z])", " ");
    return spaced.charAt(0) + spaced.substring(1).toLowerCase(Locale.ROOT);
  }

  /** Lovage's version from the jar, or "dev" when running from classes. */
  private static String lovageVersion() {
    try (InputStream in =
        OpenApiDocument.class.getResourceAsStream(
            "/META-INF/maven/io.lovage/lovage-service-support/pom.properties")) {
      if (in == null) {
        return "dev";
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version", "dev");
    } catch (IOException e) {
      return "dev";
    }
  }
}
