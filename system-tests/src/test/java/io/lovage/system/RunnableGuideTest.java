package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunnableGuideTest {
  private static final String SHOWN_ID = "4b6e1818-1854-4518-ba25-8349f0f8e937";
  private static final String REAL_ID = "a296ad94-1e94-4990-9532-cbd63bde7c07";

  @Test
  void onlyShellBlocksRightAfterAMarkerRunWithTheOutputShownUnderEachCommand(@TempDir Path dir)
      throws IOException {
    Path guide = dir.resolve("guide.md");
    Files.writeString(
        guide,
        """
        ```sh
        rm -rf /   # for the reader only
        ```

        <!-- ci: run -->
        ```sh
        curl -s localhost:8080/health
        # {"status":"UP"}
        curl -s localhost:8080/workers
        ```
        """);

    List<RunnableGuide.Block> blocks = RunnableGuide.read(guide);

    assertEquals(1, blocks.size());
    assertEquals(RunnableGuide.Kind.RUN, blocks.getFirst().kind());
    assertEquals(
        List.of(
            new RunnableGuide.Command(
                "curl -s localhost:8080/health", List.of("{\"status\":\"UP\"}")),
            new RunnableGuide.Command("curl -s localhost:8080/workers", List.of())),
        blocks.getFirst().commands());
  }

  @Test
  void aTaskIdTheGuideShowsStandsForTheOneTheCommandAnsweredInLaterCommands() {
    RunnableGuide.Ids ids = new RunnableGuide.Ids();
    String answered =
        "HTTP/1.1 202 Accepted\r\nLocation: /tasks/"
            + REAL_ID
            + "\r\ncontent-type: application/json\r\n\r\n{\"id\":\""
            + REAL_ID
            + "\",\"state\":\"PENDING\"}";

    assertEquals(
        java.util.Optional.empty(),
        RunnableGuide.mismatch(
            List.of(
                "HTTP/1.1 202 Accepted",
                "Location: /tasks/" + SHOWN_ID,
                "",
                "{\"id\":\"" + SHOWN_ID + "\",\"state\":\"PENDING\"}"),
            answered,
            ids));
    assertEquals(
        "curl -s localhost:8080/tasks/" + REAL_ID,
        ids.substitute("curl -s localhost:8080/tasks/" + SHOWN_ID));
  }

  @Test
  void timesAndWorkerNamesMatchAnyButOtherValuesMustBeEqual() {
    List<String> shown =
        List.of(
            "{\"result\":5,\"worker\":\"lovage-11842@vm\",\"finished\":\"2026-12-02T11:23:26.486Z\"}");

    assertTrue(
        RunnableGuide.mismatch(
                shown,
                "{\"result\":5,\"worker\":\"lovage-7@ci-host\",\"finished\":\"2027-01-01T00:00:00Z\"}",
                new RunnableGuide.Ids())
            .isEmpty());
    String wrong =
        RunnableGuide.mismatch(
                shown,
                "{\"result\":6,\"worker\":\"lovage-7@ci-host\",\"finished\":\"2027-01-01T00:00:00Z\"}",
                new RunnableGuide.Ids())
            .orElseThrow();
    assertTrue(wrong.startsWith("/result: shown 5, got 6"), wrong);
  }

  @Test
  void aFieldTheGuideDoesNotShowIsAMismatch() {
    String extra =
        RunnableGuide.mismatch(
                List.of("{\"state\":\"SUCCESS\"}"),
                "{\"state\":\"SUCCESS\",\"progress\":null}",
                new RunnableGuide.Ids())
            .orElseThrow();

    assertTrue(extra.contains("fields shown"), extra);
  }
}
