package dev.moesr.app;

import dev.moesr.app.CommandRunner.Result;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.testing.Fixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.moesr.app.CommandRunner.run;
import static org.junit.jupiter.api.Assertions.*;

class EvalCommandTest {
    @TempDir
    Path dir;
    Path sr, hr;
    private final Fixture fixture = new Fixture("/metrics/metrics.txt");

    private void copyResource(String name, Path to) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/metrics/" + name)) {
            Files.copy(in, to);
        }
    }

    @BeforeEach
    void folders() throws IOException {
        sr = Files.createDirectories(dir.resolve("sr"));
        hr = Files.createDirectories(dir.resolve("hr"));
        // the fixture's distorted image is the "result", its reference the HR image; same name, different extensions
        copyResource("dist_rgb.png", sr.resolve("0801.png"));
        ImageFiles.write(hr.resolve("0801.bmp"), ImageFiles.read(dirOf("ref_rgb.png")));
    }

    private Path dirOf(String resource) throws IOException {
        Path p = dir.resolve("res-" + resource);
        if (!Files.exists(p)) copyResource(resource, p);
        return p;
    }

    private static double jsonNumber(String json, String key, int occurrence) {
        Matcher m = Pattern.compile("\"" + key + "\": (-?[0-9.eE+-]+|null)").matcher(json);
        for (int i = 0; i <= occurrence; i++) assertTrue(m.find(), key + " #" + occurrence + " in " + json);
        return m.group(1).equals("null") ? Double.NaN : Double.parseDouble(m.group(1));
    }

    @Test
    void scoresMatchTheGoldenValuesInJson() {
        Result r = run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--crop", "4", "--json");
        assertEquals(0, r.code(), r.all());
        String[] ref = fixture.tokens("fullref1");    // border 4
        assertEquals(Double.parseDouble(ref[3]), jsonNumber(r.out(), "psnr", 0), 1e-6);
        assertEquals(Double.parseDouble(ref[4]), jsonNumber(r.out(), "ssim", 0), 1e-7);
        assertEquals(Double.parseDouble(fixture.tokens("niqe2")[2]), jsonNumber(r.out(), "niqe", 0), 1e-9);
        assertEquals(jsonNumber(r.out(), "psnr", 0), jsonNumber(r.out(), "psnr", 1), 1e-12, "the mean of one image is that image");
        assertTrue(r.out().contains("\"lpips\": null") && r.out().contains("LPIPS not computed"), r.out());
        assertTrue(r.out().contains("\"name\": \"0801\""), r.out());
    }

    @Test
    void tableShowsEveryImageAndTheMean() throws IOException {
        copyResource("dist_gray.png", sr.resolve("g.png"));
        copyResource("ref_gray.png", hr.resolve("g.png"));
        Result r = run("eval", "--sr", sr.toString(), "--hr", hr.toString());
        assertEquals(0, r.code(), r.all());
        String[] lines = r.out().split("\n");
        assertTrue(lines[0].contains("PSNR") && lines[0].contains("SSIM") && lines[0].contains("NIQE"), lines[0]);
        assertTrue(lines[1].startsWith("0801"), r.out());
        assertTrue(lines[2].startsWith("g ") && lines[2].contains(String.format(java.util.Locale.ROOT, "%.3f",
                Double.parseDouble(fixture.tokens("fullref2")[3]))), lines[2]);
        assertTrue(lines[2].contains("n/a"), "the 75x64 gray image is too small for NIQE: " + lines[2]);
        assertTrue(lines[3].startsWith("mean"), r.out());
        assertTrue(r.out().contains("NIQE not available for 1 image(s)") && r.out().contains("two 96x96 blocks"), r.out());
        assertTrue(r.out().contains("LPIPS not computed"), r.out());
    }

    @Test
    void identicalImagesScoreInfinityAndOne() {
        Result r = run("eval", "--sr", hr.toString(), "--hr", hr.toString(), "--no-niqe");
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("inf") && r.out().contains("1.0000"), r.out());
        assertTrue(r.out().contains("NIQE skipped"), r.out());
        Result json = run("eval", "--sr", hr.toString(), "--hr", hr.toString(), "--no-niqe", "--json");
        assertTrue(Double.isNaN(jsonNumber(json.out(), "psnr", 0)), "infinite PSNR is null in JSON: " + json.out());
        assertEquals(1.0, jsonNumber(json.out(), "ssim", 0), 1e-12);
    }

    private static void assertOneLineError(Result r, String... fragments) {
        assertEquals(1, r.code(), r.all());
        assertEquals(1, r.err().strip().split("\n").length, "one line: " + r.err());
        assertTrue(r.err().startsWith("sr-app eval: "), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' in: " + r.err());
    }

    @Test
    void badInputGivesOneLineErrors() throws IOException {
        copyResource("ref_gray.png", sr.resolve("lonely.png"));
        assertOneLineError(run("eval", "--sr", sr.toString(), "--hr", hr.toString()), "lonely", "no partner");
        Files.delete(sr.resolve("lonely.png"));

        copyResource("ref_gray.png", sr.resolve("size.png"));
        copyResource("niqe_gray.png", hr.resolve("size.png"));
        assertOneLineError(run("eval", "--sr", sr.toString(), "--hr", hr.toString()), "size", "75x64", "290x200");
        Files.delete(sr.resolve("size.png"));

        assertOneLineError(run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--crop", "60"), "leaves nothing");
        assertOneLineError(run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--crop", "-1"), "--crop");
        assertOneLineError(run("eval", "--sr", dir.resolve("none").toString(), "--hr", hr.toString()), "no such folder");
        Files.writeString(sr.resolve("broken.png"), "not a png");
        copyResource("ref_rgb.png", hr.resolve("broken.png"));
        assertOneLineError(run("eval", "--sr", sr.toString(), "--hr", hr.toString()), "broken.png", "not an image");
        assertEquals(2, run("eval", "--sr", sr.toString()).code(), "missing --hr is a command-line mistake");
    }

    @Test
    void helpExplainsTheMetrics() {
        Result r = run("eval", "--help");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("--crop") && r.out().contains("LPIPS") && r.out().contains("BT.601"), r.out());
    }
}
