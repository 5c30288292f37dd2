package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.deadletter.DeadLetter;
import io.lovage.deadletter.DeadLetterStore;
import io.lovage.protocol.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeadLetterFilterTest {
  private static DeadLetter letter(String id, String task, String reason) {
    return new DeadLetter(
        id,
        "q",
        1,
        "t-" + id,
        task,
        reason,
        null,
        null,
        null,
        1,
        "2026-12-02T12:00:00Z",
        Json.MAPPER.readTree("[[], {}, {}]"));
  }

  @Test
  void matchesTheTaskExactlyAndTheReasonAsTextItContainsIgnoringCase() {
    var filter = new DeadLetterFilter(" demo.fail ", "BOOM");
    assertTrue(filter.matches(letter("1", "demo.fail", "task failed: Demo: boom")));
    assertFalse(filter.matches(letter("2", "demo.fail.other", "boom")));
    assertFalse(filter.matches(letter("3", "demo.fail", "expired")));
    assertFalse(filter.matches(letter("4", "demo.fail", null)));
    assertTrue(new DeadLetterFilter("", "").matches(letter("5", null, null)), "empty: all");
  }

  @Test
  void theBulkActionsSayHowManyTheyTouchAndCarryTheFilter() {
    var filter = new DeadLetterFilter("demo.fail", "<x>");
    var matches =
        new DeadLetterController.Matches(
            "q", List.of(letter("1", "demo.fail", "<x>"), letter("2", "demo.fail", "<x>")), false);

    String html =
        DeadLetterPage.render(
            "q",
            List.of(),
            new DeadLetterStore.Page("q", matches.deadLetters(), null),
            0,
            filter,
            matches);

    assertTrue(html.contains("data-matched=\"2\""), html);
    assertTrue(html.contains("data-confirm=\"Replay the 2 dead letters that match?\""), html);
    assertTrue(html.contains(">Delete all 2</button>"), html);
    assertTrue(html.contains("name=\"reason\" value=\"&lt;x&gt;\""), html);
    assertFalse(html.contains("<x>"), html);
  }
}
