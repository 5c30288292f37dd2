package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.deadletter.DeadLetter;
import io.lovage.deadletter.DeadLetterStore;
import io.lovage.protocol.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeadLetterPageTest {

  @Test
  void aDeadLetterShowsItsReasonAndBodyEscapedWithConfirmedReplayAndDeleteForms() {
    DeadLetter letter =
        new DeadLetter(
            "q:7",
            "q",
            7,
            "t-1",
            "demo.fail",
            "task failed: <b>boom</b>",
            "DemoFailure",
            "<script>alert(1)</script>",
            "trace <i>",
            1,
            "2026-12-02T12:00:00Z",
            Json.MAPPER.readTree("[[\"<script>x</script>\"], {}, {}]"));
    String html =
        DeadLetterPage.render(
            "q", List.of("q"), new DeadLetterStore.Page("q", List.of(letter), null), 0);

    assertFalse(html.contains("<script>"), html);
    assertFalse(html.contains("<b>boom"), html);
    assertTrue(html.contains("task failed: &lt;b&gt;boom&lt;/b&gt;"), html);
    assertTrue(html.contains("<a href=\"/ui/tasks/t-1\">t-1</a>"), html);
    assertTrue(html.contains("action=\"/ui/dead-letters/q%3A7/replay\" data-confirm="), html);
    assertTrue(html.contains("action=\"/ui/dead-letters/q%3A7/delete\" data-confirm="), html);
  }
}
