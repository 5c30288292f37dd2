package io.lovage.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lovage.protocol.Json;
import io.lovage.testing.Await;
import io.lovage.testing.RabbitFixture;
import java.io.File;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import tools.jackson.databind.JsonNode;

/**
 * The dashboard at /ui in a real browser (Debian's headless chromium through Selenium) against the
 * producer and worker jars and RabbitMQ. Each test leaves a screenshot in target/screenshots/.
 */
class DashboardIT {
  private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Path SCREENSHOTS = Path.of("target", "screenshots");
  private static final String KEY = "dash-key-1";

  private static String queue;
  private static AppProcess producer;
  private static AppProcess guarded;
  private static AppProcess worker;
  private static WebDriver browser;

  @BeforeAll
  static void start() {
    assertTrue(
        Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
        "DashboardIT needs Debian's chromium and its driver at "
            + CHROMIUM
            + " and "
            + CHROMEDRIVER
            + ": apt-get install -y chromium chromium-driver");
    queue = RabbitFixture.uniqueQueue("dashboard");
    // The producer with an API key starts beside the other, not after it: the suite stays short.
    guarded = AppProcess.startProducer(Map.of("LOVAGE_API_KEY", KEY));
    producer = AppProcess.producer();
    worker = AppProcess.worker(queue, 4);
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000");
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .withLogFile(new File("target/chromedriver.log"))
            .build();
    browser = new ChromeDriver(service, options);
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (worker != null) {
      worker.close();
    }
    if (producer != null) {
      producer.close();
    }
    if (guarded != null) {
      guarded.close();
    }
    if (queue != null) {
      RabbitFixture.deleteTaskQueue(queue);
    }
  }

  @AfterEach
  void screenshot(TestInfo test) throws IOException {
    Files.createDirectories(SCREENSHOTS);
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(
        shot.toPath(),
        SCREENSHOTS.resolve(test.getTestMethod().orElseThrow().getName() + ".png"),
        StandardCopyOption.REPLACE_EXISTING);
  }

  @Test
  void aTaskSubmittedOverRestReachesSuccessOnTheTasksPageWithoutAReload() throws IOException {
    browser.get(producer.uri("/ui/tasks?queue=" + queue).toString());
    ((JavascriptExecutor) browser).executeScript("window.lovageNotReloaded = true;");

    String id =
        producer.submitTask(
            "{\"task\": \"demo.sleep\", \"args\": [1], \"queue\": \"" + queue + "\"}");

    By row = By.cssSelector("tr[data-task-id='" + id + "']");
    wait(browser).until(ExpectedConditions.textToBePresentInElementLocated(row, "SUCCESS"));
    assertTrue(browser.findElement(row).getText().contains("✓"), "a symbol beside the colour");
    assertEquals(
        Boolean.TRUE,
        ((JavascriptExecutor) browser).executeScript("return window.lovageNotReloaded === true;"),
        "the page was updated in place, not reloaded");
  }

  @Test
  void aFlakyTaskRetriesThenSucceedsAndItsPageCountsTheRetries() throws IOException {
    String id =
        producer.submitTask(
            "{\"task\": \"demo.flaky\", \"args\": [1], \"queue\": \"" + queue + "\"}");
    browser.get(producer.uri("/ui/tasks/" + id).toString());

    wait(browser)
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector(".state"), "SUCCESS"));
    String fields = browser.findElement(By.cssSelector(".fields")).getText();
    assertTrue(fields.contains("Retries\n1"), fields);
  }

  @Test
  void theWorkersPageShowsTheWorkerWithTheQueueItConsumes() {
    browser.get(producer.uri("/ui/workers").toString());

    wait(browser)
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("table.workers a[href='/ui/tasks?queue=" + queue + "']")));
  }

  @Test
  void aFailedTasksPageShowsItsErrorAndTraceback() throws IOException {
    String id =
        producer.submitTask(
            "{\"task\": \"demo.fail\", \"args\": [\"dashboard boom\"], \"queue\": \""
                + queue
                + "\"}");
    assertEquals("FAILURE", producer.awaitFinal(id).get("state").asString());

    browser.get(producer.uri("/ui/tasks/" + id).toString());

    assertTrue(browser.findElement(By.cssSelector(".state")).getText().contains("FAILURE"));
    String traceback = browser.findElement(By.cssSelector("pre.traceback")).getText();
    assertTrue(traceback.contains("DemoFailure"), traceback);
    assertTrue(traceback.contains("dashboard boom"), traceback);
  }

  @Test
  void replayingADeadLetterFromItsPageRunsTheTaskAgain() throws IOException {
    String id =
        producer.submitTask(
            "{\"task\": \"demo.fail\", \"args\": [\"replay me\"], \"queue\": \"" + queue + "\"}");
    producer.awaitFinal(id);
    browser.get(producer.uri("/ui/dead-letters?queue=" + queue).toString());
    By letterOfTask = By.xpath("//article[.//a[@href='/ui/tasks/" + id + "']]");
    WebElement letter =
        wait(browser).until(ExpectedConditions.presenceOfElementLocated(letterOfTask));
    String first = letter.getAttribute("data-dead-letter-id");
    assertTrue(letter.getText().contains("replay me"), letter.getText());

    letter.findElement(By.cssSelector("button.replay")).click();
    wait(browser).until(ExpectedConditions.alertIsPresent()).accept();

    wait(browser)
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector(".notice"), "Replayed"));
    // The task fails again on the worker and dead-letters anew: the page shows it without a reload.
    wait(browser)
        .until(
            d ->
                d.findElements(letterOfTask).stream()
                    .anyMatch(a -> !first.equals(a.getAttribute("data-dead-letter-id"))));
  }

  @Test
  void aWaitingTaskIsRevokedFromItsPage() throws IOException {
    String id =
        producer.submitTask(
            "{\"task\": \"demo.noop\", \"countdown\": 120, \"queue\": \"" + queue + "\"}");
    browser.get(producer.uri("/ui/tasks/" + id).toString());

    browser.findElement(By.xpath("//button[text()='Revoke']")).click();
    wait(browser).until(ExpectedConditions.alertIsPresent()).accept();

    wait(browser)
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector(".state"), "REVOKED"));
    assertEquals("REVOKED", producer.awaitFinal(id).get("state").asString());
  }

  @Test
  void aTaskSubmittedWithArgumentsShowsThemOnItsPage() throws IOException {
    String id =
        producer.submitTask(
            "{\"task\": \"demo.add\", \"args\": [20, 22], \"queue\": \"" + queue + "\"}");
    assertEquals("SUCCESS", producer.awaitFinal(id).get("state").asString());

    browser.get(producer.uri("/ui/tasks/" + id).toString());

    String args = browser.findElement(By.cssSelector(".arguments pre.args")).getText();
    assertTrue(args.contains("20") && args.contains("22"), args);
    assertTrue(browser.findElement(By.cssSelector("pre.result")).getText().contains("42"));
  }

  @Test
  void resubmittingAFailedTaskFromItsPageRunsItAgainAsANewTaskWithTheSameArguments()
      throws IOException {
    String id =
        producer.submitTask(
            "{\"task\": \"demo.fail\", \"args\": [\"resubmit me\"], \"queue\": \"" + queue + "\"}");
    assertEquals("FAILURE", producer.awaitFinal(id).get("state").asString());
    browser.get(producer.uri("/ui/tasks/" + id).toString());

    browser.findElement(By.cssSelector("button.resubmit")).click();
    wait(browser).until(ExpectedConditions.alertIsPresent()).accept();

    wait(browser).until(ExpectedConditions.urlContains("notice=resubmitted"));
    String url = browser.getCurrentUrl();
    assertFalse(url.contains(id), "a new task, not the old one: " + url);
    String newId = url.substring(url.indexOf("/ui/tasks/") + 10, url.indexOf('?'));
    // The new task runs on the worker and fails again with the same argument; the page shows it.
    wait(browser)
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector(".state"), "FAILURE"));
    String traceback =
        wait(browser)
            .until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("pre.traceback")))
            .getText();
    assertTrue(traceback.contains("resubmit me"), traceback);
    JsonNode again = producer.awaitFinal(newId);
    assertEquals("demo.fail", again.get("task").asString());
    assertEquals(queue, again.get("queue").asString());
  }

  @Test
  void aChainSubmittedOverRestShowsItsTreeAndEveryNodeReachesSuccessWithoutAReload()
      throws IOException {
    HttpResponse<String> accepted =
        producer.post(
            "/workflows",
            "application/json",
            """
            {"chain": [{"task": "demo.sleep", "args": [1], "queue": "%1$s"},
                       {"task": "demo.add", "args": [2], "queue": "%1$s"},
                       {"task": "demo.add", "args": [3], "queue": "%1$s"}]}
            """
                .formatted(queue));
    assertEquals(202, accepted.statusCode(), accepted.body());
    JsonNode workflow = Json.MAPPER.readTree(accepted.body());
    String id = workflow.get("id").asString();
    String firstTask = workflow.at("/tasks/0/id").asString();

    browser.get(producer.uri("/ui/workflows/" + id).toString());
    ((JavascriptExecutor) browser).executeScript("window.lovageNotReloaded = true;");
    assertEquals(3, browser.findElements(By.cssSelector("li.workflow-task a")).size());

    wait(browser)
        .until(
            d -> {
              var nodes = d.findElements(By.cssSelector("li.workflow-task .state"));
              return nodes.size() == 3 && nodes.stream().allMatch(n -> n.getText().contains("✓"));
            });
    assertTrue(browser.findElement(By.cssSelector(".fields .state")).getText().contains("SUCCESS"));
    assertEquals(
        Boolean.TRUE,
        ((JavascriptExecutor) browser).executeScript("return window.lovageNotReloaded === true;"),
        "the tree was updated in place, not reloaded");

    browser
        .findElement(By.cssSelector("li.workflow-task a[href='/ui/tasks/" + firstTask + "']"))
        .click();
    wait(browser)
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector(".fields a[href='/ui/workflows/" + id + "']")));
    // The step it sent, the chain's next one, is linked as its child.
    assertEquals(
        1,
        browser
            .findElements(
                By.cssSelector(
                    ".children a[href='/ui/tasks/" + workflow.at("/tasks/1/id").asString() + "']"))
            .size());
    browser.navigate().back(); // the screenshot shows the tree
    wait(browser).until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".workflow")));
  }

  @Test
  void theTimeRangeFilterHidesTasksSentBeforeItsStart() throws IOException {
    String older = producer.submitTask("{\"task\": \"demo.noop\", \"queue\": \"" + queue + "\"}");
    // Event times are kept to the millisecond: the range starts a little after the older task's
    // send, and the newer one is sent once the clock has passed it.
    Instant start = Instant.now().plusMillis(2);
    Await.until(
        Duration.ofSeconds(5),
        "the clock to pass the range's start",
        () -> Optional.of(start).filter(s -> Instant.now().isAfter(s.plusMillis(3))));
    String newer = producer.submitTask("{\"task\": \"demo.noop\", \"queue\": \"" + queue + "\"}");

    browser.get(producer.uri("/ui/tasks?queue=" + queue + "&since=" + start).toString());

    wait(browser)
        .until(
            ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("tr[data-task-id='" + newer + "']")));
    assertTrue(
        browser.findElements(By.cssSelector("tr[data-task-id='" + older + "']")).isEmpty(),
        "the task sent before the range is hidden");

    // The form's select offers the usual ranges and keeps the other filters.
    browser.get(producer.uri("/ui/tasks?queue=" + queue).toString());
    new Select(browser.findElement(By.name("since"))).selectByValue("15m");
    browser.findElement(By.xpath("//button[text()='Filter']")).click();
    wait(browser).until(ExpectedConditions.urlContains("since=15m"));
    assertTrue(browser.getCurrentUrl().contains("queue=" + queue), browser.getCurrentUrl());
    assertFalse(browser.findElements(By.cssSelector("tr[data-task-id='" + older + "']")).isEmpty());
  }

  @Test
  void theOverviewsSucceededSeriesRisesAfterTasksAreSubmittedWithoutAReload() throws IOException {
    browser.get(producer.uri("/ui").toString());
    ((JavascriptExecutor) browser).executeScript("window.lovageNotReloaded = true;");
    By succeeded = By.cssSelector("table.throughput tr[data-outcome='task-succeeded']");
    long before =
        total(wait(browser).until(ExpectedConditions.presenceOfElementLocated(succeeded)));

    for (int i = 0; i < 5; i++) {
      producer.submitTask("{\"task\": \"demo.noop\", \"queue\": \"" + queue + "\"}");
    }

    wait(browser).until(d -> total(d.findElement(succeeded)) >= before + 5);
    // The line is drawn once its 5 s bucket is complete: a point above the baseline (y 160).
    By line = By.cssSelector("#throughput-chart polyline.outcome-succeeded");
    wait(browser)
        .until(
            d ->
                java.util.Arrays.stream(d.findElement(line).getAttribute("points").split(" "))
                    .anyMatch(p -> Double.parseDouble(p.split(",")[1]) < 160));
    assertTrue(
        browser
            .findElement(By.cssSelector("#throughput-chart title"))
            .getAttribute("textContent")
            .contains("per second"),
        "the chart has a text alternative");
    assertEquals(
        Boolean.TRUE,
        ((JavascriptExecutor) browser).executeScript("return window.lovageNotReloaded === true;"),
        "the chart was updated in place, not reloaded");
  }

  @Test
  void aScheduleCreatedOverRestIsListedOnTheSchedulesPageAndPausedFromIt() throws IOException {
    String name = "dashboard-" + java.util.UUID.randomUUID();
    assertEquals(
        201,
        producer
            .post(
                "/schedules",
                "application/json",
                "{\"name\": \""
                    + name
                    + "\", \"task\": \"demo.noop\", \"queue\": \""
                    + queue
                    + "\", \"every\": 3600}")
            .statusCode());
    try {
      browser.get(producer.uri("/ui/schedules").toString());
      By row = By.cssSelector("tr[data-schedule='" + name + "']");
      WebElement listed = wait(browser).until(ExpectedConditions.presenceOfElementLocated(row));
      assertTrue(listed.getText().contains("demo.noop"), listed.getText());
      assertTrue(listed.getText().contains("every 1 h"), listed.getText());

      listed.findElement(By.xpath(".//button[text()='Pause']")).click();
      wait(browser).until(ExpectedConditions.alertIsPresent()).accept();

      wait(browser)
          .until(
              ExpectedConditions.textToBePresentInElementLocated(
                  By.cssSelector(".notice"), "Paused"));
      assertTrue(browser.findElement(row).getText().contains("paused"));
      assertFalse(
          Json.MAPPER
              .readTree(producer.get("/schedules/" + name).body())
              .get("enabled")
              .asBoolean(),
          "paused as the REST API sees it");
    } finally {
      producer.delete("/schedules/" + name);
    }
  }

  @Test
  void aConsumerAddedAndThenCancelledFromTheWorkersPageChangesTheWorkersQueues()
      throws IOException {
    String extra = queue + ".extra";
    By row = By.xpath("//tr[.//a[@href='/ui/tasks?queue=" + queue + "']]");
    By extraQueue = By.cssSelector("li[data-queue='" + extra + "']");
    try {
      browser.get(producer.uri("/ui/workers").toString());
      WebElement worker = wait(browser).until(ExpectedConditions.presenceOfElementLocated(row));
      worker.findElement(By.cssSelector(".add-consumer input[name='queue']")).sendKeys(extra);
      worker.findElement(By.xpath(".//button[text()='Add consumer']")).click();
      wait(browser).until(ExpectedConditions.alertIsPresent()).accept();

      wait(browser)
          .until(
              ExpectedConditions.textToBePresentInElementLocated(
                  By.cssSelector(".notice"), "consumes the queue now"));
      wait(browser).until(d -> !d.findElement(row).findElements(extraQueue).isEmpty());
      assertTrue(workerQueues().contains(extra), "the REST API sees it too");

      browser.findElement(row).findElement(extraQueue).findElement(By.tagName("button")).click();
      wait(browser).until(ExpectedConditions.alertIsPresent()).accept();

      wait(browser)
          .until(
              ExpectedConditions.textToBePresentInElementLocated(
                  By.cssSelector(".notice"), "stopped consuming"));
      wait(browser).until(d -> d.findElement(row).findElements(extraQueue).isEmpty());
      assertFalse(workerQueues().contains(extra), "the REST API sees it gone");
      assertTrue(workerQueues().contains(queue), "the other queue is still consumed");
    } finally {
      RabbitFixture.deleteTaskQueue(extra);
    }
  }

  /** Every queue the workers alive consume, as GET /workers reports them. */
  private static java.util.Set<String> workerQueues() throws IOException {
    java.util.Set<String> queues = new java.util.HashSet<>();
    Json.MAPPER
        .readTree(producer.get("/workers").body())
        .path("workers")
        .forEach(w -> w.path("queues").forEach(q -> queues.add(q.asString())));
    return queues;
  }

  @Test
  void replayingAllDeadLettersThatMatchAReasonReplaysEachAndTheyRunAgain() throws IOException {
    String mark = "bulk-" + java.util.UUID.randomUUID();
    java.util.List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ids.add(
          producer.submitTask(
              "{\"task\": \"demo.fail\", \"args\": [\""
                  + mark
                  + "\"], \"queue\": \""
                  + queue
                  + "\"}"));
    }
    ids.forEach(producer::awaitFinal);
    browser.get(producer.uri("/ui/dead-letters?queue=" + queue + "&reason=" + mark).toString());
    By bulk = By.cssSelector(".bulk[data-matched='3']");
    wait(browser).until(ExpectedConditions.presenceOfElementLocated(bulk));
    java.util.Map<String, String> first = new java.util.HashMap<>();
    for (String id : ids) {
      first.put(
          id,
          browser
              .findElement(By.xpath("//article[.//a[@href='/ui/tasks/" + id + "']]"))
              .getAttribute("data-dead-letter-id"));
    }

    browser.findElement(By.xpath("//button[text()='Replay all 3']")).click();
    var confirm = wait(browser).until(ExpectedConditions.alertIsPresent());
    assertTrue(confirm.getText().contains("3 dead letters"), confirm.getText());
    confirm.accept();

    wait(browser)
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector(".notice"), "Replayed 3 dead letter(s)."));
    // Each task runs again, fails again and is dead-lettered anew: a new dead letter per task,
    // and the three replayed are gone; shown without a reload.
    wait(browser)
        .until(
            d ->
                ids.stream()
                    .allMatch(
                        id ->
                            d
                                .findElements(
                                    By.xpath("//article[.//a[@href='/ui/tasks/" + id + "']]"))
                                .stream()
                                .map(a -> a.getAttribute("data-dead-letter-id"))
                                .anyMatch(letter -> !letter.equals(first.get(id)))));
    for (String id : ids) {
      assertTrue(
          browser
              .findElements(By.cssSelector("article[data-dead-letter-id='" + first.get(id) + "']"))
              .isEmpty(),
          "replayed, so no longer listed: " + first.get(id));
    }
  }

  private static long total(WebElement row) {
    return Long.parseLong(row.getAttribute("data-total"));
  }

  @Test
  void withAnApiKeySetTheDashboardShowsTheLoginFormAndNoDataUntilTheKeyIsGiven() {
    guarded.awaitHealthy();
    browser.get(guarded.uri("/ui/tasks").toString());

    wait(browser).until(ExpectedConditions.urlContains("/ui/login"));
    assertFalse(browser.getPageSource().contains("<table"), "no data before the key");
    WebElement key = browser.findElement(By.name("key"));
    key.sendKeys("wrong-key");
    key.submit();
    wait(browser)
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.cssSelector(".notice"), "not accepted"));

    browser.findElement(By.name("key")).sendKeys(KEY);
    browser.findElement(By.name("key")).submit();
    wait(browser)
        .until(ExpectedConditions.textToBePresentInElementLocated(By.tagName("h1"), "Tasks"));
    assertTrue(browser.getCurrentUrl().endsWith("/ui/tasks"), browser.getCurrentUrl());
  }

  private static WebDriverWait wait(WebDriver driver) {
    return new WebDriverWait(driver, WAIT);
  }
}
