package io.lovage.system.image;

import io.lovage.system.image.Dockerfile.Instruction;
import io.lovage.system.image.Dockerfile.Stage;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A Docker image build replayed without an engine: the build stage gets exactly what its COPY
 * instructions take from the context (minus {@code .dockerignore}) in an empty directory and runs
 * its RUN commands there; the runtime stage's {@code COPY --from} files land under a directory that
 * stands for the image's root. Paths in the ENTRYPOINT are then mapped onto that directory.
 */
public final class ImageReplay {
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(10);

  private final Path context;
  private final Dockerfile dockerfile;
  private final Path work;

  /**
   * @param context the build context (the repository root)
   * @param dockerfile the Dockerfile, relative to the context
   * @param work an empty directory to replay in
   */
  public ImageReplay(Path context, String dockerfile, Path work) throws IOException {
    this.context = context.toAbsolutePath().normalize();
    this.dockerfile = Dockerfile.read(this.context.resolve(dockerfile));
    this.work = work.toAbsolutePath();
  }

  public Dockerfile dockerfile() {
    return dockerfile;
  }

  /** Where the image's {@code /} is, once {@link #build} has run. */
  public Path root() {
    return work.resolve("image");
  }

  /** Where a stage's {@code /} is. */
  private Path stageRoot(String stage) {
    return work.resolve("stage-" + stage);
  }

  /**
   * Replays every stage the runtime stage copies from, then the runtime stage's copies.
   *
   * @param env environment of the RUN commands (JAVA_HOME, …)
   * @param log where the RUN commands' output goes
   * @throws AssertionError when a COPY source is missing or a RUN command fails
   */
  public void build(Map<String, String> env, Path log) throws IOException, InterruptedException {
    DockerIgnore ignore = DockerIgnore.read(context);
    Stage runtime = dockerfile.runtime();
    for (Instruction copy : runtime.all("COPY")) {
      String from = copy.flags().get("from");
      if (from != null && !Files.exists(stageRoot(from))) {
        buildStage(dockerfile.stage(from), ignore, env, log);
      }
    }
    Files.createDirectories(root());
    for (Instruction copy : runtime.all("COPY")) {
      String from = copy.flags().get("from");
      Path sourceRoot = from == null ? context : stageRoot(from);
      copy(copy, sourceRoot, from == null ? ignore : null, root(), runtime.workdir());
    }
    for (Instruction run : runtime.all("RUN")) {
      // Only directory creation matters outside an image (users and groups do not).
      for (String word : run.words()) {
        if (word.startsWith("/app")) {
          Files.createDirectories(inImage(root(), word));
        }
      }
    }
  }

  private void buildStage(Stage stage, DockerIgnore ignore, Map<String, String> env, Path log)
      throws IOException, InterruptedException {
    Path stageRoot = stageRoot(stage.name());
    Path workdir = inImage(stageRoot, stage.workdir());
    Files.createDirectories(workdir);
    for (Instruction instruction : stage.instructions()) {
      switch (instruction.keyword()) {
        case "COPY" -> copy(instruction, context, ignore, stageRoot, stage.workdir());
        case "RUN" -> run(instruction, workdir, env, log);
        default -> {}
      }
    }
  }

  private void run(Instruction run, Path workdir, Map<String, String> env, Path log)
      throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder("sh", "-c", run.arguments());
    builder.directory(workdir.toFile()).redirectErrorStream(true);
    builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().putAll(env);
    Process process = builder.start();
    if (!process.waitFor(BUILD_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("RUN " + run.arguments() + " took over " + BUILD_TIMEOUT);
    }
    if (process.exitValue() != 0) {
      throw new AssertionError(
          "RUN "
              + run.arguments()
              + " failed with exit code "
              + process.exitValue()
              + " in "
              + dockerfile.file()
              + "; its output ends:\n"
              + tail(log, 30));
    }
  }

  /** COPY [--chmod=…] src… dest: a directory source copies its contents, as Docker does. */
  private void copy(
      Instruction copy, Path sourceRoot, DockerIgnore ignore, Path targetRoot, String workdir)
      throws IOException {
    List<String> words = copy.words();
    List<String> sources = words.subList(0, words.size() - 1);
    String dest = words.getLast();
    Path target = inImage(targetRoot, dest.startsWith("/") ? dest : workdir + "/" + dest);
    boolean intoDirectory = dest.endsWith("/") || dest.equals(".") || sources.size() > 1;
    String chmod = copy.flags().get("chmod");
    for (String source : sources) {
      if (source.contains("*") || source.contains("?")) {
        throw new AssertionError("wildcard COPY sources are not replayed: " + source);
      }
      Path from =
          source.startsWith("/")
              ? inImage(sourceRoot, source)
              : sourceRoot.resolve(source).normalize();
      Path relative = sourceRoot.relativize(from);
      if (!Files.exists(from, LinkOption.NOFOLLOW_LINKS)
          || (ignore != null && !relative.toString().isEmpty() && ignore.excludes(relative))) {
        throw new AssertionError(
            dockerfile.file().getFileName()
                + ": COPY "
                + source
                + " has nothing to copy (not in the build context, or excluded by .dockerignore)");
      }
      if (Files.isDirectory(from)) {
        copyTree(from, relative, ignore, target, chmod);
      } else {
        Path to = intoDirectory ? target.resolve(from.getFileName().toString()) : target;
        copyFile(from, to, chmod);
      }
    }
  }

  private static void copyTree(
      Path from, Path relative, DockerIgnore ignore, Path target, String chmod) throws IOException {
    Files.walkFileTree(
        from,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes)
              throws IOException {
            Path inside = from.relativize(dir);
            if (!inside.toString().isEmpty() && ignored(inside)) {
              // A directory Docker leaves out (target/, .git) is not even walked.
              return FileVisitResult.SKIP_SUBTREE;
            }
            Files.createDirectories(target.resolve(inside.toString()));
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws IOException {
            Path inside = from.relativize(file);
            if (!ignored(inside)) {
              copyFile(file, target.resolve(inside.toString()), chmod);
            }
            return FileVisitResult.CONTINUE;
          }

          private boolean ignored(Path inside) {
            return ignore != null && ignore.excludes(relative.resolve(inside));
          }
        });
  }

  private static void copyFile(Path from, Path to, String chmod) throws IOException {
    Files.createDirectories(to.getParent());
    Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
    if (chmod != null) {
      Files.setPosixFilePermissions(to, permissions(chmod));
    }
  }

  private static Set<PosixFilePermission> permissions(String octal) {
    int mode = Integer.parseInt(octal, 8);
    StringBuilder text = new StringBuilder();
    String letters = "rwxrwxrwx";
    for (int bit = 0; bit < 9; bit++) {
      text.append((mode & (1 << (8 - bit))) != 0 ? letters.charAt(bit) : '-');
    }
    return PosixFilePermissions.fromString(text.toString());
  }

  /**
   * The runtime stage's ENTRYPOINT as a command for this machine: {@code java} is this JVM's, and
   * every absolute path (also inside a {@code -cp} list) points under {@link #root}.
   */
  public List<String> entrypoint(String javaHome) {
    List<String> command = new ArrayList<>();
    for (String word : dockerfile.runtime().last("ENTRYPOINT").orElseThrow().words()) {
      if (command.isEmpty() && word.equals("java")) {
        command.add(Path.of(javaHome, "bin", "java").toString());
      } else if (word.startsWith("/")) {
        List<String> mapped = new ArrayList<>();
        for (String element : word.split(":")) {
          mapped.add(inImage(root(), element).toString());
        }
        command.add(String.join(":", mapped));
      } else {
        command.add(word);
      }
    }
    return command;
  }

  /** An absolute path inside an image, under the directory that stands for its root. */
  public static Path inImage(Path root, String absolute) {
    return root.resolve(absolute.replaceAll("^/+", ""));
  }

  private static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(cannot read " + log + ": " + e + ")";
    }
  }
}
