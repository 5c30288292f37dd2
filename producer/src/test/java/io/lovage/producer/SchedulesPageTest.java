package io.lovage.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchedulesPageTest {

  @Test
  void aScheduleShowsItsCadenceAndLatestRunsEscapedWithConfirmedActions() {
    var list =
        Json.MAPPER.readTree(
            "{\"leader\": true, \"schedules\": [{\"name\": \"<b>n</b>\", \"task\": \"demo.add\","
                + " \"queue\": \"celery\", \"every\": 300, \"enabled\": true,"
                + " \"nextRun\": \"2026-12-02T12:05:00Z\"}]}");
    var runs =
        Json.MAPPER.readTree(
            "{\"runs\": [{\"scheduled\": \"2026-12-02T12:00:00Z\", \"id\": \"t-1\", \"state\":"
                + " \"SUCCESS\"}]}");

    String html = SchedulesPage.render(list, Map.of("<b>n</b>", runs));

    assertFalse(html.contains("<b>n"), html);
    assertTrue(html.contains("every 5 min"), html);
    assertTrue(html.contains("<a href=\"/ui/tasks/t-1\">"), html);
    assertTrue(html.contains("✓"), html);
    assertTrue(
        html.contains("action=\"/ui/schedules/%3Cb%3En%3C%2Fb%3E/pause\" data-confirm="), html);
    assertTrue(html.contains("/delete\" data-confirm="), html);
  }

  @Test
  void cadenceInWords() {
    assertEquals("every 90 s", SchedulesPage.cadence(Json.MAPPER.readTree("{\"every\": 90}")));
    assertEquals("every 2 h", SchedulesPage.cadence(Json.MAPPER.readTree("{\"every\": 7200}")));
    assertEquals(
        "cron 0 * * * * (Europe/Paris)",
        SchedulesPage.cadence(
            Json.MAPPER.readTree("{\"cron\": \"0 * * * *\", \"timezone\": \"Europe/Paris\"}")));
  }

  @Test
  void noLimitsSaysHowToSetOne() {
    assertTrue(
        LimitsPage.render(Json.MAPPER.readTree("{\"limits\": []}")).contains("PUT /limits/{task}"));
    String html =
        LimitsPage.render(
            Json.MAPPER.readTree(
                "{\"limits\": [{\"task\": \"demo.add\", \"rate\": \"5/s\", \"scope\": \"global\","
                    + " \"concurrency\": 2, \"concurrencyKey\": null, \"at\": \"x\","
                    + " \"use\": {\"tokensReady\": 3, \"workers\": 1, \"permitsInUse\": 1}}]}"));
    assertTrue(html.contains("5/s"), html);
    assertTrue(html.contains("2 at once"), html);
    assertTrue(html.contains("3 token(s) ready, 1 worker(s) sharing; 1 permit(s) held"), html);
  }
}
