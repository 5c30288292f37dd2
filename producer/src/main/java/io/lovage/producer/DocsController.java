package io.lovage.producer;

import io.lovage.service.Problem;
import io.lovage.service.WithoutApiKey;
import io.lovage.service.openapi.Undocumented;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.types.files.StreamedFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.util.Properties;
import java.util.Set;

/**
 * {@code GET /docs}: Swagger UI on this service's {@code /openapi.yml}, to read the API and try it.
 * Its files come from the swagger-ui webjar inside the jar, so the page needs no internet access.
 * Open without the API key, like the document itself; requests made from the page need it.
 */
@Controller("/docs")
@Undocumented
@WithoutApiKey
final class DocsController {
  private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/";
  private static final String WEBJAR_POM = "META-INF/maven/org.webjars/swagger-ui/pom.properties";

  /** What the page loads; nothing else of the webjar is served. */
  static final Set<String> ASSETS =
      Set.of("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png");

  // validatorUrl null: Swagger UI would otherwise send the document to an online validator.
  private static final String PAGE =
      """
      <!DOCTYPE html>
      <html lang="en">
      <head>
        <meta charset="utf-8">
        <title>Lovage REST API</title>
        <link rel="stylesheet" href="/docs/swagger-ui/swagger-ui.css">
        <link rel="icon" type="image/png" href="/docs/swagger-ui/favicon-32x32.png" sizes="32x32">
        <link rel="icon" type="image/png" href="/docs/swagger-ui/favicon-16x16.png" sizes="16x16">
      </head>
      <body>
        <div id="swagger-ui"></div>
        <script src="/docs/swagger-ui/swagger-ui-bundle.js"></script>
        <script>
          window.ui = SwaggerUIBundle({
            url: "/openapi.yml",
            dom_id: "#swagger-ui",
            validatorUrl: null,
            deepLinking: true
          });
        </script>
      </body>
      </html>
      """;

  private final ClassLoader classLoader = DocsController.class.getClassLoader();
  private final String assets;

  DocsController() {
    this.assets = WEBJAR + webjarVersion() + "/";
  }

  @Get
  @Produces(MediaType.TEXT_HTML)
  String page() {
    return PAGE;
  }

  @Get("/swagger-ui/{file}")
  HttpResponse<?> asset(@PathVariable String file) {
    URL url = ASSETS.contains(file) ? classLoader.getResource(assets + file) : null;
    if (url == null) {
      return new Problem(HttpStatus.NOT_FOUND, "no file '" + file + "' in the docs", null)
          .response();
    }
    return HttpResponse.ok(new StreamedFile(url));
  }

  private String webjarVersion() {
    try (InputStream in = classLoader.getResourceAsStream(WEBJAR_POM)) {
      if (in == null) {
        throw new IllegalStateException("the swagger-ui webjar is not on the classpath");
      }
      Properties pom = new Properties();
      pom.load(in);
      return pom.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
