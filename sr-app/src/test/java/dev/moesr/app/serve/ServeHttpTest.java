package dev.moesr.app.serve;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.infer.SuperResolver;
import dev.moesr.tensor.Device;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.moesr.app.serve.ServeTesting.get;
import static dev.moesr.app.serve.ServeTesting.post;
import static dev.moesr.app.serve.ServeTesting.waitFor;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The server over plain HTTP, on the untrained tiny model and a 24x24 crop of a photograph:
 * what it refuses and why, the limits, the queue, cancellation (by the page and by a dropped
 * event stream), bounded results, model switching, and a result identical to the library's.
 */
class ServeHttpTest {
    @TempDir static Path dir;
    static ServeServer server;
    static URI base;
    static Path models;
    static byte[] photoPng;
    static final long MAX_PIXELS = 2000;          // 24x24 passes, 64x64 does not
    static final long MAX_UPLOAD = 200_000;
    static final int KEEP = 3;
    static final int MAX_WAITING = 3;

    final List<EventStreamHolder> open = new ArrayList<>();

    record EventStreamHolder(String session, ServeTesting.EventStream stream) {}

    @BeforeAll
    static void start() throws Exception {
        models = Files.createDirectories(dir.resolve("models"));
        ServeTesting.tinyModel(models.resolve("tiny.safetensors"), 42);
        ServeTesting.tinyModel(models.resolve("tiny-b.safetensors"), 7);
        ServeTesting.tinyModel(models.resolve("broken.safetensors"), 9);
        Files.writeString(models.resolve("notes.safetensors"), "not a model");
        ModelCatalog catalog = ModelCatalog.scan(models.resolve("tiny.safetensors"));
        // damaged after the scan: a job that picks it fails while loading, and the server goes on
        byte[] b = Files.readAllBytes(models.resolve("broken.safetensors"));
        Files.write(models.resolve("broken.safetensors"), Arrays.copyOf(b, b.length / 2));
        server = ServeServer.start("127.0.0.1", 0, catalog, Device.parse("cpu"), new ServeServer.Limits(MAX_PIXELS, MAX_UPLOAD, KEEP, MAX_WAITING, 1000));
        base = server.uri();
        photoPng = Pngs.encode(ServeTesting.photo(24));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    @AfterEach
    void closeStreams() throws Exception {
        for (EventStreamHolder h : open) h.stream.close();
        // every test leaves the queue empty for the next one
        assertTrue(waitFor(30, () -> status().get("running") == null && ((List<?>) status().get("waiting")).isEmpty()), "the queue did not empty: " + status());
    }

    /** A page: a session with its event stream open. */
    EventStreamHolder page() throws Exception {
        String session = (String) post(base, "/api/session", null).json().get("session");
        ServeTesting.EventStream s = new ServeTesting.EventStream(base, session);
        EventStreamHolder h = new EventStreamHolder(session, s);
        open.add(h);
        assertTrue(waitFor(10, () -> s.status == 200), "the event stream did not open");
        return h;
    }

    static Map<String, Object> status() {
        try {
            return get(base, "/api/status").json();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Map<String, Object> job(String id) {
        try {
            return get(base, "/api/jobs/" + id).json();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static String submit(String session, String settings, byte[] image) throws Exception {
        ServeTesting.Response r = post(base, "/api/jobs?session=" + session + "&name=photo.png&" + settings, image);
        assertEquals(202, r.status(), r.text());
        return (String) r.json().get("id");
    }

    static boolean inState(String id, String state) {
        return state.equals(job(id).get("state"));
    }

    static double tensorBytes() {
        return (Double) status().get("tensorBytesInUse");
    }

    // ---- the page ------------------------------------------------------------------------------

    @Test
    void servesThePageAndItsFilesFromTheJar() throws Exception {
        ServeTesting.Response page = get(base, "/");
        assertEquals(200, page.status());
        assertTrue(page.header("Content-Type").startsWith("text/html"), page.header("Content-Type"));
        assertTrue(page.text().contains("<script src=\"/app.js\""), page.text());
        assertTrue(page.header("Content-Security-Policy").contains("default-src 'self'"), "the page may load nothing from elsewhere");
        assertEquals(200, get(base, "/app.js").status());
        assertEquals(200, get(base, "/app.css").status());
        for (String path : List.of("/web/app.js", "/../pom.xml", "/app.js/../../x", "/api/nothing")) {
            ServeTesting.Response r = get(base, path);
            assertEquals(404, r.status(), path);
            assertNotNull(r.error(), path);
        }
        assertEquals(405, post(base, "/api/config", null).status());
    }

    @Test
    void offersTheDefaultModelAndTheModelFilesBesideIt() throws Exception {
        Map<String, Object> config = get(base, "/api/config").json();
        List<?> list = (List<?>) config.get("models");
        List<Object> ids = new ArrayList<>();
        for (Object m : list) ids.add(((Map<?, ?>) m).get("id"));
        assertEquals(List.of("tiny.safetensors", "broken.safetensors", "tiny-b.safetensors"), ids, "the default first; not the file that is no model");
        Map<?, ?> first = (Map<?, ?>) list.get(0);
        assertEquals(Boolean.TRUE, first.get("default"));
        assertEquals(4.0, first.get("scale"));
        assertEquals("tiny", first.get("preset"));
        assertEquals((double) MAX_PIXELS, config.get("maxPixels"));
        assertEquals((double) MAX_UPLOAD, config.get("maxUploadBytes"));
    }

    // ---- refusals ------------------------------------------------------------------------------

    @Test
    void refusesATextFileWithTheReasonOnOneLine() throws Exception {
        ServeTesting.Response r = post(base, "/api/inspect?name=notes.txt", "just some text\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(415, r.status());
        assertTrue(r.error().startsWith("notes.txt: not an image in a format this program reads (PNG, JPEG, BMP"), r.error());
        assertFalse(r.error().contains("\n"));
        EventStreamHolder p = page();
        ServeTesting.Response j = post(base, "/api/jobs?session=" + p.session + "&name=notes.txt", "just some text\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(415, j.status());
        assertEquals(r.error(), j.error());
    }

    @Test
    void refusesABrokenImage() throws Exception {
        ServeTesting.Response r = post(base, "/api/inspect?name=cut.png", Arrays.copyOf(photoPng, photoPng.length / 2));
        assertEquals(415, r.status());
        assertTrue(r.error().startsWith("cut.png: is damaged or truncated"), r.error());
        assertFalse(r.error().contains("\n"));
    }

    @Test
    void refusesImagesOverThePixelLimitBeforeDecodingThem() throws Exception {
        byte[] big = Pngs.encode(ServeTesting.photo(64));
        ServeTesting.Response r = post(base, "/api/inspect?name=big.png", big);
        assertEquals(413, r.status());
        assertEquals("big.png: is 64x64 = 4096 pixels, more than the limit of 2000 (raise it with serve --max-pixels if the memory allows)", r.error());
    }

    @Test
    void refusesFilesOverTheUploadLimitAndEmptyOnes() throws Exception {
        ServeTesting.Response r = post(base, "/api/inspect?name=huge.bmp", new byte[(int) MAX_UPLOAD + 1]);
        assertEquals(413, r.status());
        assertEquals("huge.bmp: the file is 0.2 MB, more than the upload limit of 0.2 MB (serve --max-upload-mb)", r.error());
        ServeTesting.Response e = post(base, "/api/inspect?name=empty.png", new byte[0]);
        assertEquals(400, e.status());
        assertEquals("empty.png: is empty (0 bytes)", e.error());
        assertEquals(200, get(base, "/api/config").status(), "the server goes on");
    }

    @Test
    void refusesBadSettingsAndModelsNotOnItsList() throws Exception {
        EventStreamHolder p = page();
        Map<String, String> cases = Map.of(
                "steps=7", "steps must divide the 1000 training timesteps (e.g. 200, 100, 50, 20, 10), got 7",
                "steps=ten", "steps must be a whole number, got 'ten'",
                "sampler=euler", "the sampler is ddim or ddpm, got 'euler'",
                "seed=1.5", "the seed must be a whole number, got '1.5'",
                "colorFix=maybe", "colour fix is on or off, got 'maybe'",
                "fusionWeight=NaN", "the fusion weight must be a finite number, got NaN",
                "model=..%2F..%2Fetc%2Fpasswd", "unknown model '../../etc/passwd'; choose one of [tiny.safetensors, broken.safetensors, tiny-b.safetensors]",
                "model=" + models.resolve("tiny.safetensors").toString().replace("/", "%2F"),
                "unknown model '" + ModelCatalog.shorten(models.resolve("tiny.safetensors").toString())
                        + "'; choose one of [tiny.safetensors, broken.safetensors, tiny-b.safetensors]");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            ServeTesting.Response r = post(base, "/api/jobs?session=" + p.session + "&" + c.getKey(), photoPng);
            assertEquals(400, r.status(), c.getKey());
            assertEquals(c.getValue(), r.error(), c.getKey());
        }
        ServeTesting.Response noSession = post(base, "/api/jobs?session=0123", photoPng);
        assertEquals(409, noSession.status());
        assertTrue(noSession.error().contains("reload the page"), noSession.error());
    }

    @Test
    void answersOnlyRequestsForLoopbackNamesAndFromItsOwnPage() throws Exception {
        // a page elsewhere reaching 127.0.0.1 through its own DNS name (rebinding) is refused
        try (Socket s = new Socket(base.getHost(), base.getPort())) {
            OutputStream out = s.getOutputStream();
            out.write("GET /api/config HTTP/1.1\r\nHost: attacker.example:8080\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String reply = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(reply.startsWith("HTTP/1.1 403"), reply);
            assertTrue(reply.contains("this server answers requests to 127.0.0.1 or localhost only"), reply);
        }
        ServeTesting.Response foreign = ServeTesting.send(HttpRequest.newBuilder(base.resolve("/api/session"))
                .header("Origin", "http://attacker.example").POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(403, foreign.status());
        assertEquals("requests from other sites (http://attacker.example) are refused", foreign.error());
        ServeTesting.Response own = ServeTesting.send(HttpRequest.newBuilder(base.resolve("/api/session"))
                .header("Origin", "http://" + base.getHost() + ":" + base.getPort()).POST(HttpRequest.BodyPublishers.noBody()));
        assertEquals(200, own.status());
    }

    // ---- jobs ----------------------------------------------------------------------------------

    @Test
    void aJobStreamsItsProgressAndGivesTheLibrarysResult() throws Exception {
        EventStreamHolder p = page();
        String id = submit(p.session, "steps=4&sampler=ddim&seed=7&colorFix=off&fusionWeight=0.5", photoPng);
        assertTrue(waitFor(60, () -> inState(id, "done")), "not done: " + job(id));
        assertTrue(waitFor(5, () -> p.stream.latest(id) != null && "done".equals(p.stream.latest(id).get("state"))));
        List<Map<String, Object>> events = p.stream.of(id);
        // events of one job replace each other until sent, so a fast phase may pass unseen; progress must show
        assertTrue(events.stream().anyMatch(e -> "sampling".equals(e.get("phase")) || "decoding".equals(e.get("phase"))), "progress events: " + events);
        double last = -1;
        for (Map<String, Object> e : events) {
            double pct = (Double) e.get("percent");
            assertTrue(pct >= last, "the percentage never goes back: " + events);
            last = pct;
        }
        assertEquals(100.0, last);
        Map<String, Object> done = job(id);
        assertEquals(Map.of("width", 96.0, "height", 96.0), done.get("output"));
        assertTrue(((String) done.get("description")).startsWith("4 DDIM steps"), done.toString());

        ServeTesting.Response result = get(base, "/api/jobs/" + id + "/result.png?download=1");
        assertEquals(200, result.status());
        assertEquals("image/png", result.header("Content-Type"));
        assertEquals("attachment; filename=\"photo_x4.png\"", result.header("Content-Disposition"));
        Image expected;
        try (SuperResolver sr = SuperResolver.open(models.resolve("tiny.safetensors"), Device.parse("cpu"))) {
            expected = sr.upscale(ImageFiles.decode(photoPng, "photo.png", MAX_PIXELS),
                    new SuperResolver.Options().steps(4).sampler(SuperResolver.Sampler.DDIM).seed(7).colorFix(false).fusionWeight(0.5f));
        }
        assertSamePixels(expected, result.body());
        Path written = dir.resolve("as-infer-writes-it.png");
        ImageFiles.write(written, expected);
        assertArrayEquals(Files.readAllBytes(written), result.body(), "the same bytes as infer's .png");

        BufferedImage input = ImageIO.read(new ByteArrayInputStream(get(base, "/api/jobs/" + id + "/input.png").body()));
        assertEquals(24, input.getWidth());
        BufferedImage bicubic = ImageIO.read(new ByteArrayInputStream(get(base, "/api/jobs/" + id + "/bicubic.png").body()));
        assertEquals(96, bicubic.getWidth());
        assertEquals(96, bicubic.getHeight());
    }

    /** The PNG holds exactly the library's result, quantised to its bit depth as infer writes it. */
    static void assertSamePixels(Image expected, byte[] png) throws Exception {
        BufferedImage want = ImageFiles.toBufferedImage(expected, expected.bitDepth());
        BufferedImage got = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(want.getWidth(), got.getWidth());
        assertEquals(want.getHeight(), got.getHeight());
        assertEquals(want.getRaster().getNumBands(), got.getRaster().getNumBands());
        int w = want.getWidth(), h = want.getHeight(), bands = want.getRaster().getNumBands();
        int[] a = want.getRaster().getPixels(0, 0, w, h, new int[w * h * bands]);
        int[] b = got.getRaster().getPixels(0, 0, w, h, new int[w * h * bands]);
        assertArrayEquals(a, b, "the served PNG differs from SuperResolver's output");
    }

    @Test
    void aSixteenBitImageGivesASixteenBitResultAsInferWritesIt() throws Exception {
        EventStreamHolder p = page();
        Path deepFile = dir.resolve("deep.png");
        ImageFiles.writePng(deepFile, ServeTesting.photo(24), 16);
        byte[] deep = Files.readAllBytes(deepFile);
        String id = submit(p.session, "steps=1&sampler=ddim&seed=5", deep);
        assertTrue(waitFor(60, () -> inState(id, "done")), "not done: " + job(id));
        byte[] served = get(base, "/api/jobs/" + id + "/result.png").body();
        Image expected;
        try (SuperResolver sr = SuperResolver.open(models.resolve("tiny.safetensors"), Device.parse("cpu"))) {
            expected = sr.upscale(ImageFiles.decode(deep, "deep.png", MAX_PIXELS), new SuperResolver.Options().steps(1).sampler(SuperResolver.Sampler.DDIM).seed(5));
        }
        assertEquals(16, expected.bitDepth());
        assertEquals(16, ImageIO.read(new ByteArrayInputStream(served)).getColorModel().getComponentSize(0));
        assertSamePixels(expected, served);
        Path written = dir.resolve("deep-as-infer-writes-it.png");
        ImageFiles.write(written, expected);
        assertArrayEquals(Files.readAllBytes(written), served, "the same bytes as infer's .png");
        BufferedImage shown = ImageIO.read(new ByteArrayInputStream(get(base, "/api/jobs/" + id + "/input.png").body()));
        assertEquals(8, shown.getColorModel().getComponentSize(0), "the views for the page are 8-bit");
    }

    @Test
    void cancellingStopsAWaitingOrRunningJobAndFreesItsWork() throws Exception {
        EventStreamHolder p = page();
        String warm = submit(p.session, "steps=1", photoPng);       // loads the model
        assertTrue(waitFor(60, () -> inState(warm, "done")));
        double modelOnly = tensorBytes();

        String running = submit(p.session, "steps=500&sampler=ddim", photoPng);
        String waiting = submit(p.session, "steps=500", photoPng);
        assertTrue(waitFor(60, () -> inState(running, "running") && (Double) job(running).get("done") >= 2), job(running).toString());
        assertEquals(1.0, job(waiting).get("place"));
        assertEquals(200, post(base, "/api/jobs/" + waiting + "/cancel?session=" + p.session, null).status());
        assertEquals("cancelled", job(waiting).get("state"), "a waiting job leaves the queue at once");
        assertEquals(200, post(base, "/api/jobs/" + running + "/cancel?session=" + p.session, null).status());
        assertTrue(waitFor(10, () -> inState(running, "cancelled")), "the running job stops at its next model call: " + job(running));
        Map<String, Object> stopped = job(running);
        assertTrue((Double) stopped.get("done") < 500, stopped.toString());
        assertEquals(modelOnly, tensorBytes(), "the cancelled job's tensors were released");

        ServeTesting.Response other = post(base, "/api/session", null);
        String stranger = (String) other.json().get("session");
        String again = submit(p.session, "steps=2", photoPng);
        assertEquals(403, post(base, "/api/jobs/" + again + "/cancel?session=" + stranger, null).status(), "another page cannot cancel it");
        assertTrue(waitFor(60, () -> inState(again, "done")), "the server goes on after a cancelled job: " + job(again));
        assertEquals(modelOnly, tensorBytes());
    }

    @Test
    void aPageThatGoesAwayHasItsJobsCancelled() throws Exception {
        EventStreamHolder p = page();
        String id = submit(p.session, "steps=500&sampler=ddim", photoPng);
        assertTrue(waitFor(60, () -> inState(id, "running") && (Double) job(id).get("done") >= 1), job(id).toString());
        p.stream.close();   // as a closed tab
        assertTrue(waitFor(15, () -> inState(id, "cancelled")), "still " + job(id));
        assertEquals("cancelled: the page was closed", job(id).get("message"));
        ServeTesting.Response late = post(base, "/api/jobs?session=" + p.session, photoPng);
        assertEquals(409, late.status(), "the session is gone");
    }

    @Test
    void aFullQueueRefusesMoreJobsAndTheOthersKnowTheirPlace() throws Exception {
        EventStreamHolder p = page();
        String first = submit(p.session, "steps=500&sampler=ddim", photoPng);
        assertTrue(waitFor(60, () -> inState(first, "running")));
        List<String> waiting = new ArrayList<>();
        for (int i = 0; i < MAX_WAITING; i++) waiting.add(submit(p.session, "steps=1", photoPng));
        for (int i = 0; i < MAX_WAITING; i++) assertEquals((double) (i + 1), job(waiting.get(i)).get("place"));
        ServeTesting.Response full = post(base, "/api/jobs?session=" + p.session + "&name=one-more.png", photoPng);
        assertEquals(503, full.status());
        assertEquals("the queue is full (3 jobs waiting); wait for one to finish or cancel one", full.error());
        post(base, "/api/jobs/" + waiting.get(0) + "/cancel?session=" + p.session, null);
        assertTrue(waitFor(5, () -> Double.valueOf(1).equals(p.stream.latest(waiting.get(1)).get("place"))), "places move up, streamed to the page");
        assertEquals(2.0, job(waiting.get(2)).get("place"));
        for (String id : waiting) post(base, "/api/jobs/" + id + "/cancel?session=" + p.session, null);
        post(base, "/api/jobs/" + first + "/cancel?session=" + p.session, null);
    }

    @Test
    void keepsTheLastResultsOnlyAndMemoryStaysFlat() throws Exception {
        EventStreamHolder p = page();
        List<String> ids = new ArrayList<>();
        List<Double> tensors = new ArrayList<>();
        for (int i = 0; i < KEEP + 4; i++) {
            String id = submit(p.session, "steps=1&seed=" + i, photoPng);
            assertTrue(waitFor(60, () -> inState(id, "done")), job(id).toString());
            ids.add(id);
            tensors.add(tensorBytes());
        }
        assertEquals(1, tensors.stream().distinct().count(), "tensor memory after each job: " + tensors);
        assertEquals((double) KEEP, status().get("keptResults"));
        ServeTesting.Response old = get(base, "/api/jobs/" + ids.get(0) + "/result.png");
        assertEquals(404, old.status());
        assertEquals("no such job (the server keeps the last 3 results)", old.error());
        assertEquals(200, get(base, "/api/jobs/" + ids.get(ids.size() - 1) + "/result.png").status());
    }

    @Test
    void anotherModelReplacesTheLoadedOneAndAFailedJobStopsNothing() throws Exception {
        EventStreamHolder p = page();
        String a = submit(p.session, "steps=1", photoPng);
        assertTrue(waitFor(60, () -> inState(a, "done")));
        double one = tensorBytes();
        String b = submit(p.session, "steps=1&model=tiny-b.safetensors", photoPng);
        assertTrue(waitFor(60, () -> inState(b, "done")), job(b).toString());
        assertEquals("tiny-b.safetensors", status().get("loadedModel"));
        assertEquals(one, tensorBytes(), "one model held at a time");

        String broken = submit(p.session, "steps=1&model=broken.safetensors", photoPng);
        assertTrue(waitFor(60, () -> inState(broken, "failed")), job(broken).toString());
        String why = (String) job(broken).get("message");
        assertTrue(why.contains("broken.safetensors"), why);
        assertFalse(why.contains("\n"));
        assertTrue(tensorBytes() < one, "the old model was released before the failed load: " + tensorBytes() + " bytes");
        String after = submit(p.session, "steps=1", photoPng);
        assertTrue(waitFor(60, () -> inState(after, "done")), "the server goes on: " + job(after));
        assertEquals(one, tensorBytes());
    }
}
