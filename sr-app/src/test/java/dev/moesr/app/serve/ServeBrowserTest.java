package dev.moesr.app.serve;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.infer.SuperResolver;
import dev.moesr.tensor.Device;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The page in a real browser: Debian's chromium, headless, driven through its chromedriver by
 * Selenium, against a server on 127.0.0.1 with the untrained tiny model and a 24x24 photo. It
 * chooses (and drops) files, refuses a text file, runs a job while watching the streamed progress
 * reach 100%, downloads the result and compares it with {@link SuperResolver}'s output for the
 * same settings, cancels a job, queues two, and closes the page under a running job. Each step
 * leaves a screenshot (1000x700) in {@code serve.screenshots} (default target/serve-screenshots;
 * docs/images holds a set). Skipped when /usr/bin/chromium or /usr/bin/chromedriver is missing
 * (.ci/run installs them).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ServeBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    @TempDir static Path dir;
    static ServeServer server;
    static ChromeDriver driver;
    static Path model, photo, text, downloads, screenshots;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "the browser tests need Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver): apt-get install -y chromium chromium-driver");
        model = ServeTesting.tinyModel(Files.createDirectories(dir.resolve("models")).resolve("tiny.safetensors"), 42);
        photo = dir.resolve("photo.png");
        ImageFiles.write(photo, ServeTesting.photo(24));
        text = dir.resolve("notes.txt");
        Files.writeString(text, "shopping list: milk, bread\n");
        downloads = Files.createDirectories(dir.resolve("downloads"));
        screenshots = Files.createDirectories(Path.of(System.getProperty("serve.screenshots", "target/serve-screenshots")));
        ServeServer.Limits d = ServeServer.Limits.defaults();
        server = ServeServer.start("127.0.0.1", 0, ModelCatalog.scan(model), Device.parse("cpu"),
                new ServeServer.Limits(d.maxPixels(), d.maxUploadBytes(), d.keepResults(), d.maxWaiting(), 1000));

        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--window-size=1000,700",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
        options.setExperimentalOption("prefs", Map.of("download.default_directory", downloads.toString(), "download.prompt_for_download", false));
        // the driver is named here: Selenium Manager never looks for (or downloads) one
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        driver.manage().window().setSize(new Dimension(1000, 700));
        driver.executeCdpCommand("Browser.setDownloadBehavior", Map.of("behavior", "allow", "downloadPath", downloads.toString()));
    }

    @AfterAll
    static void stop() {
        if (driver != null) driver.quit();
        if (server != null) server.close();
    }

    // ---- helpers ------------------------------------------------------------------------------

    static <T> T await(double seconds, Function<org.openqa.selenium.WebDriver, T> condition) {
        return new WebDriverWait(driver, Duration.ofMillis((long) (seconds * 1000)), Duration.ofMillis(20)).until(condition);
    }

    static WebElement byId(String id) { return driver.findElement(By.id(id)); }

    static void screenshot(String name) throws Exception {
        Files.write(screenshots.resolve("serve-" + name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
    }

    static void openPage() {
        driver.get(server.uri().toString());
        await(20, d -> byId("connection").getText().equals("connected"));
    }

    static void choose(Path file) {
        byId("file").sendKeys(file.toString());
    }

    static void settings(String steps, String sampler, String seed) {
        WebElement s = byId("steps");
        s.clear();
        s.sendKeys(steps);
        new Select(byId("sampler")).selectByValue(sampler);
        WebElement sd = byId("seed");
        sd.clear();
        sd.sendKeys(seed);
    }

    /** The job entries of the queue list, newest first. */
    static List<WebElement> jobs() { return driver.findElements(By.cssSelector("#jobs li.job")); }

    static WebElement job(String id) { return driver.findElement(By.cssSelector("#jobs li.job[data-id='" + id + "']")); }

    static String stateOf(String id) { return job(id).getAttribute("data-state"); }

    /** Starts a job with the chosen file and returns its id (the newest entry of the list). */
    static String startJob() {
        int before = jobs().size();
        await(10, d -> byId("start").isEnabled());
        byId("start").click();
        await(20, d -> jobs().size() == before + 1);
        return jobs().get(0).getAttribute("data-id");
    }

    static double percent(String id) {
        return Double.parseDouble(job(id).findElement(By.cssSelector(".bar")).getAttribute("data-percent"));
    }

    // ---- the steps ----------------------------------------------------------------------------

    @Test @Order(1)
    void showsThePageWithTheModelAndNothingToStart() throws Exception {
        openPage();
        Select models = new Select(byId("model"));
        assertEquals("tiny.safetensors · ×4 (default)", models.getFirstSelectedOption().getText());
        assertEquals("200 (model's)", byId("steps").getAttribute("placeholder"), "the tiny preset takes the paper's defaults");
        assertFalse(byId("start").isEnabled());
        assertEquals("device: cpu", byId("device").getText());
        screenshot("1-page");
    }

    @Test @Order(2)
    void refusesATextFileWithTheReason() throws Exception {
        openPage();
        choose(text);
        WebElement message = byId("message");
        await(20, d -> message.isDisplayed());
        assertTrue(message.getText().startsWith("notes.txt: not an image in a format this program reads (PNG, JPEG, BMP"), message.getText());
        assertFalse(byId("start").isEnabled());
        assertEquals("No image chosen", byId("file-info").getText());
        screenshot("2-refused");
    }

    @Test @Order(3)
    void takesADroppedImage() throws Exception {
        openPage();
        String b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(photo));
        ((JavascriptExecutor) driver).executeScript(
                "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
                        + "const dt = new DataTransfer(); dt.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));"
                        + "document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));", b64);
        await(20, d -> byId("file-info").getText().equals("dropped.png: 24×24 → 96×96 px"));
        await(10, d -> byId("start").isEnabled());
    }

    @Test @Order(4)
    void upscalesAPhotoShowsTheProgressAndDownloadsTheLibrarysResult() throws Exception {
        openPage();
        choose(photo);
        await(20, d -> byId("file-info").getText().equals("photo.png: 24×24 → 96×96 px"));
        settings("20", "ddim", "7");
        screenshot("3-chosen");
        String id = startJob();
        List<Double> seen = new ArrayList<>();
        boolean shot = false, midway = false;
        long end = System.nanoTime() + 120_000_000_000L;
        while (!"done".equals(stateOf(id)) && System.nanoTime() < end) {
            double p = percent(id);
            if (seen.isEmpty() || seen.get(seen.size() - 1) != p) seen.add(p);
            // one screenshot as soon as progress shows, a better one between 25% and 90% if the job gives the time
            if (p > 0 && p < 100 && (!shot || (p >= 25 && p < 90 && !midway))) {
                String detail = job(id).findElement(By.cssSelector(".job-detail")).getText();
                assertTrue(detail.matches("(sampling|decoding) \\d+/\\d+ · \\d+% · ETA \\d+:\\d\\d"), detail);
                screenshot("4-progress");
                midway = p >= 25 && p < 90;
                shot = true;
            }
            Thread.sleep(20);
        }
        assertEquals("done", stateOf(id), "the job did not finish");
        seen.add(percent(id));
        assertTrue(shot, "no progress between 0% and 100% was seen: " + seen);
        assertEquals(100.0, seen.get(seen.size() - 1));
        for (int i = 1; i < seen.size(); i++) assertTrue(seen.get(i) >= seen.get(i - 1), "the bar never goes back: " + seen);
        assertTrue(seen.stream().anyMatch(p -> p > 0 && p < 100), "progress came in steps: " + seen);

        // the result beside the input, at the same zoom
        await(10, d -> byId("after").getAttribute("src").endsWith("/api/jobs/" + id + "/result.png"));
        await(10, d -> (Boolean) ((JavascriptExecutor) d).executeScript(
                "const a = document.getElementById('after'), b = document.getElementById('before');"
                        + "return a.complete && a.naturalWidth === 96 && b.complete && b.naturalWidth === 24;"));
        assertTrue(byId("divider").isDisplayed());
        assertEquals(1, driver.findElements(By.cssSelector("#history li.item")).size());
        assertTrue(byId("result-info").getText().startsWith("photo.png: 24×24 → 96×96 · 20 DDIM steps"), byId("result-info").getText());
        screenshot("5-result");

        new Select(byId("before-mode")).selectByValue("bicubic");
        await(10, d -> (Boolean) ((JavascriptExecutor) d).executeScript(
                "const b = document.getElementById('before'); return b.src.endsWith('/bicubic.png') && b.complete && b.naturalWidth === 96;"));
        String zoom = byId("zoom-level").getText();
        byId("zoom-in").click();
        byId("zoom-in").click();
        assertNotEquals(zoom, byId("zoom-level").getText());
        // pan by dragging, and move the divider
        new org.openqa.selenium.interactions.Actions(driver).moveToElement(byId("viewer"), 60, 40).clickAndHold().moveByOffset(-80, -50).release().perform();
        screenshot("6-bicubic-zoomed");
        byId("zoom-fit").click();

        byId("download").click();
        Path file = downloads.resolve("photo_x4.png");
        await(30, d -> Files.isRegularFile(file) && !Files.exists(downloads.resolve("photo_x4.png.crdownload")));
        Image expected;
        try (SuperResolver sr = SuperResolver.open(model, Device.parse("cpu"))) {
            expected = sr.upscale(ImageFiles.read(photo), new SuperResolver.Options().steps(20).sampler(SuperResolver.Sampler.DDIM).seed(7));
        }
        ServeHttpTest.assertSamePixels(expected, Files.readAllBytes(file));
    }

    @Test @Order(5)
    void cancelsARunningJob() throws Exception {
        openPage();
        choose(photo);
        settings("500", "ddim", "1");
        String id = startJob();
        await(60, d -> "running".equals(stateOf(id)) && percent(id) > 0);
        job(id).findElement(By.cssSelector("button.cancel")).click();
        await(15, d -> "cancelled".equals(stateOf(id)));
        assertEquals("cancelled", job(id).findElement(By.cssSelector(".job-state")).getText());
        assertFalse(job(id).findElement(By.cssSelector("button.cancel")).isDisplayed());
        screenshot("7-cancelled");
        String after = ServeTesting.get(server.uri(), "/api/jobs/" + id).json().get("done").toString();
        assertTrue(Double.parseDouble(after) < 500, "stopped before the end: " + after);
    }

    @Test @Order(6)
    void queuesASecondJobAndShowsItsPlace() throws Exception {
        openPage();
        choose(photo);
        settings("500", "ddim", "2");
        String first = startJob();
        await(60, d -> "running".equals(stateOf(first)));
        settings("2", "ddim", "3");
        String second = startJob();
        await(10, d -> job(second).findElement(By.cssSelector(".job-state")).getText().equals("waiting · place 1 in the queue"));
        await(10, d -> percent(first) > 0);
        screenshot("8-queue");
        job(first).findElement(By.cssSelector("button.cancel")).click();
        await(60, d -> "done".equals(stateOf(second)));
        assertEquals("cancelled", stateOf(first));
        await(10, d -> driver.findElements(By.cssSelector("#history li.item")).size() == 1);
        screenshot("9-after-queue");
    }

    @Test @Order(7)
    void closingThePageCancelsItsJob() throws Exception {
        openPage();
        choose(photo);
        settings("500", "ddim", "4");
        String id = startJob();
        await(60, d -> "running".equals(stateOf(id)));
        driver.get("about:blank");
        assertTrue(ServeTesting.waitFor(20, () -> {
            try {
                return "cancelled".equals(ServeTesting.get(server.uri(), "/api/jobs/" + id).json().get("state"));
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }), "the job of the closed page was not cancelled: " + ServeTesting.get(server.uri(), "/api/jobs/" + id).text());
        assertEquals("cancelled: the page was closed", ServeTesting.get(server.uri(), "/api/jobs/" + id).json().get("message"));
        String page = new String(ServeTesting.get(server.uri(), "/").body(), StandardCharsets.UTF_8);
        assertTrue(page.contains("moesr"), "the server goes on");
    }
}
