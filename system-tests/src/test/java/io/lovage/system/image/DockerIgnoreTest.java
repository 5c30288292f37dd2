package io.lovage.system.image;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The build context the images are built from: every module of the reactor, no build output. */
class DockerIgnoreTest {
  private static final Pattern MODULE = Pattern.compile("<module>([^<]+)</module>");

  @Test
  void theBuildContextHoldsEveryReactorModulesPomAndSources() throws Exception {
    Path repository = ComposeFile.repository();
    DockerIgnore ignore = DockerIgnore.read(repository);
    Matcher modules = MODULE.matcher(Files.readString(repository.resolve("pom.xml")));
    int count = 0;
    while (modules.find()) {
      count++;
      String module = modules.group(1);
      assertFalse(ignore.excludes(Path.of(module, "pom.xml")), module + "/pom.xml is ignored");
      assertFalse(ignore.excludes(Path.of(module, "src/main/java")), module + " sources ignored");
    }
    assertTrue(count > 0, "no modules in pom.xml");
    for (String kept : List.of("pom.xml", "mvnw", ".mvn/wrapper/maven-wrapper.properties")) {
      assertFalse(ignore.excludes(Path.of(kept)), kept + " is ignored");
    }
  }

  @Test
  void buildOutputAndGitHistoryStayOutOfTheBuildContext() throws Exception {
    DockerIgnore ignore = DockerIgnore.read(ComposeFile.repository());
    for (String left :
        List.of("target", "common/target/classes", "bench/jmh/target/x.jar", ".git/HEAD")) {
      assertTrue(ignore.excludes(Path.of(left)), left + " is in the build context");
    }
  }

  @Test
  void patternsFollowDockersRules() {
    DockerIgnore ignore =
        DockerIgnore.of(List.of("# build output", "**/target", "*.log", "docs/", "!docs/keep.md"));
    assertTrue(ignore.excludes(Path.of("target")));
    assertTrue(ignore.excludes(Path.of("a/b/target/c")));
    assertFalse(ignore.excludes(Path.of("targets")));
    assertTrue(ignore.excludes(Path.of("x.log")));
    assertFalse(ignore.excludes(Path.of("a/x.log")), "*.log matches at the context root only");
    assertTrue(ignore.excludes(Path.of("docs/a.md")));
    assertFalse(ignore.excludes(Path.of("docs/keep.md")), "! takes a path back");
  }
}
