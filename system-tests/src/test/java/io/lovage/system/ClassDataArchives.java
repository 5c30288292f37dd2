package io.lovage.system;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Class-data sharing (the JDK's AppCDS) for the JVMs the tests start: the first process of a jar
 * writes the classes it loaded to an archive when it exits, and the later ones map that archive
 * instead of loading and verifying every class again. A producer or worker is then healthy in about
 * half the time (2.3 s against 4.4 s here), which the hundreds of starts in a CI run add up.
 *
 * <p>What the apps do does not change: a JVM that cannot use an archive (another JDK, a jar built
 * since) runs without it, as any JVM without {@code -XX:SharedArchiveFile}. An archive is written
 * by one process at a time, to a file of its own that is moved into place once complete, so no JVM
 * ever maps a half-written one.
 */
final class ClassDataArchives {
  private static final Path DIRECTORY = Path.of("target", "cds");
  private static final Set<Path> BEING_WRITTEN = ConcurrentHashMap.newKeySet();

  private ClassDataArchives() {}

  /** The options for a JVM that runs {@code classpath}, and what to do once it has exited. */
  record Use(List<String> options, Runnable afterExit) {}

  /** The archive of this exact classpath: named after its jars' paths, sizes and times. */
  static Use forClasspath(List<String> classpath) {
    Path archive = DIRECTORY.resolve(Integer.toHexString(fingerprint(classpath)) + ".jsa");
    if (Files.isRegularFile(archive)) {
      return new Use(List.of("-XX:SharedArchiveFile=" + archive.toAbsolutePath()), () -> {});
    }
    if (!BEING_WRITTEN.add(archive)) {
      return new Use(List.of(), () -> {});
    }
    try {
      Files.createDirectories(DIRECTORY);
    } catch (IOException e) {
      BEING_WRITTEN.remove(archive);
      return new Use(List.of(), () -> {});
    }
    Path partial = DIRECTORY.resolve(UUID.randomUUID() + ".partial");
    return new Use(
        List.of("-XX:ArchiveClassesAtExit=" + partial.toAbsolutePath()),
        () -> {
          try {
            if (Files.size(partial) > 0) {
              Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE);
            }
          } catch (IOException e) {
            // Killed before its exit wrote it: the next process of this jar tries again.
          } finally {
            BEING_WRITTEN.remove(archive);
          }
        });
  }

  private static int fingerprint(List<String> classpath) {
    StringBuilder key = new StringBuilder(System.getProperty("java.home"));
    for (String jar : classpath) {
      Path path = Path.of(jar).toAbsolutePath();
      key.append('|').append(path);
      try {
        key.append('|')
            .append(Files.size(path))
            .append('|')
            .append(Files.getLastModifiedTime(path));
      } catch (IOException e) {
        key.append("|missing");
      }
    }
    return key.toString().hashCode();
  }
}
