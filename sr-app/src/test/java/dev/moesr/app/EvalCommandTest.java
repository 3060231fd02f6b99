package dev.moesr.app;

import dev.moesr.app.CommandRunner.Result;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.Image;
import dev.moesr.app.testing.Fixture;
import dev.moesr.diffusion.lpips.Lpips;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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
        assertTrue(r.out().contains("--scale") && r.out().contains("--lr") && r.out().contains("--lpips-weights"), r.out());
    }

    // ---- LPIPS ----------------------------------------------------------------------------------

    /**
     * A narrow LPIPS-VGG with random weights, saved as a weights file the way converted weights are.
     * Its linear heads are made non-negative, as trained LPIPS heads are (the lpips package clamps
     * them), so that the distance of different images is positive.
     */
    private Lpips randomLpips(Path file) throws IOException {
        Lpips lpips = new Lpips(List.of(3, 4, 4, 5, 5), new Philox(17));
        Map<String, Tensor> heads = new java.util.LinkedHashMap<>();
        for (var e : lpips.stateDict().entrySet()) {
            if (e.getKey().startsWith("lin")) heads.put(e.getKey(), e.getValue().abs());
        }
        lpips.loadStateDict(heads, false);
        lpips.save(file, Map.of());
        return lpips;
    }

    /** The LPIPS input of an image file, built here independently: border cropped, RGB, 2v - 1, [1, 3, H, W]. */
    private static Tensor lpipsTensor(Path file, int crop) throws IOException {
        Image img = ImageFiles.read(file).toRgb();
        int h = img.height() - 2 * crop, w = img.width() - 2 * crop;
        float[] v = new float[3 * h * w];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) v[(c * h + y) * w + x] = 2f * img.get(c, y + crop, x + crop) - 1f;
            }
        }
        return Tensor.of(v, 1, 3, h, w);
    }

    @Test
    void lpipsEqualsTheModulesOwnForward() throws IOException {
        Path weights = dir.resolve("lpips.safetensors");
        Lpips lpips = randomLpips(weights);
        copyResource("dist_gray.png", sr.resolve("g.png"));    // gray: repeated to RGB
        copyResource("ref_gray.png", hr.resolve("g.png"));
        Result r = run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--crop", "4", "--no-niqe",
                "--lpips-weights", weights.toString(), "--json");
        assertEquals(0, r.code(), r.all());
        double expectedRgb, expectedGray;
        try (Scope s = Scope.open()) {
            expectedRgb = lpips.forward(lpipsTensor(sr.resolve("0801.png"), 4), lpipsTensor(hr.resolve("0801.bmp"), 4)).item();
            expectedGray = lpips.forward(lpipsTensor(sr.resolve("g.png"), 4), lpipsTensor(hr.resolve("g.png"), 4)).item();
        }
        assertTrue(expectedRgb > 0 && expectedGray > 0, expectedRgb + " " + expectedGray);
        assertEquals(expectedRgb, jsonNumber(r.out(), "lpips", 0), 1e-6 * expectedRgb);
        assertEquals(expectedGray, jsonNumber(r.out(), "lpips", 1), 1e-6 * expectedGray);
        assertEquals((expectedRgb + expectedGray) / 2, jsonNumber(r.out(), "lpips", 2), 1e-6 * expectedRgb, "the mean");
        assertFalse(r.out().contains("LPIPS not computed"), r.out());

        Result table = run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--crop", "4", "--no-niqe",
                "--lpips-weights", weights.toString());
        assertTrue(table.out().split("\n")[0].contains("LPIPS"), table.out());
        assertTrue(table.out().split("\n")[1].contains(String.format(java.util.Locale.ROOT, "%.4f", expectedRgb)), table.out());
    }

    @Test
    void lpipsIsZeroForIdenticalImages() throws IOException {
        Path weights = dir.resolve("lpips.safetensors");
        randomLpips(weights);
        Result r = run("eval", "--sr", hr.toString(), "--hr", hr.toString(), "--no-niqe", "--lpips-weights", weights.toString(), "--json");
        assertEquals(0, r.code(), r.all());
        assertEquals(0.0, jsonNumber(r.out(), "lpips", 0), 0.0);
    }

    @Test
    void badLpipsWeightsAreOneLineErrors() throws IOException {
        Path garbage = dir.resolve("garbage.safetensors");
        Files.writeString(garbage, "not a safetensors file");
        assertOneLineError(run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--lpips-weights", garbage.toString()), "garbage.safetensors");

        Path other = dir.resolve("other.safetensors");     // a valid file of some other network
        new Conv2d(3, 4, 3, 1, 1, new Philox(1)).save(other, Map.of());
        assertOneLineError(run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--lpips-weights", other.toString()),
                "not LPIPS-VGG weights", "lin0.model.1.weight");

        Path mismatched = dir.resolve("mismatched.safetensors");   // heads of one network, backbone of a wider one
        Map<String, Tensor> state = new java.util.LinkedHashMap<>(new Lpips(List.of(3, 4, 4, 5, 5), new Philox(1)).stateDict());
        state.putAll(new Lpips(List.of(6, 4, 4, 5, 5), new Philox(1)).stateDict().entrySet().stream()
                .filter(e -> e.getKey().startsWith("net.slice1.")).collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
        SafeTensors.write(mismatched, state, Map.of());
        assertOneLineError(run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--lpips-weights", mismatched.toString()),
                "mismatched.safetensors");

        assertOneLineError(run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--lpips-weights", dir.resolve("none").toString()), "none");
    }

    // ---- the border crop: --crop, --scale, --lr ---------------------------------------------------

    private double psnrOf(String... args) {
        Result r = run(args);
        assertEquals(0, r.code(), r.all());
        return jsonNumber(r.out(), "psnr", 0);
    }

    @Test
    void scaleIsTheDefaultCrop() {
        String s = sr.toString(), h = hr.toString();
        Result r = run("eval", "--sr", s, "--hr", h, "--scale", "4", "--no-niqe", "--json");
        assertEquals(0, r.code(), r.all());
        assertEquals(4.0, jsonNumber(r.out(), "crop", 0));
        assertEquals(4.0, jsonNumber(r.out(), "scale", 0));
        assertEquals(psnrOf("eval", "--sr", s, "--hr", h, "--crop", "4", "--no-niqe", "--json"), jsonNumber(r.out(), "psnr", 0), 0.0);
        assertFalse(r.out().contains("no border was cropped"), r.out());
        Result both = run("eval", "--sr", s, "--hr", h, "--scale", "4", "--crop", "2", "--no-niqe", "--json");
        assertEquals(2.0, jsonNumber(both.out(), "crop", 0), "--crop wins over --scale");
        assertOneLineError(run("eval", "--sr", s, "--hr", h, "--scale", "0"), "--scale");
    }

    @Test
    void withoutCropOrScaleNothingIsCroppedAndTheOutputSaysSo() {
        Result r = run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--no-niqe");
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("0-pixel border cropped") && r.out().contains("no border was cropped"), r.out());
        Result json = run("eval", "--sr", sr.toString(), "--hr", hr.toString(), "--no-niqe", "--json");
        assertEquals(0.0, jsonNumber(json.out(), "crop", 0));
        assertTrue(json.out().contains("\"scale\": null") && json.out().contains("no border was cropped"), json.out());
    }

    @Test
    void scaleIsInferredFromTheLrImages() throws IOException {
        // a 204x112 pair (multiple of 4) and its 51x28 LR input (the LR content does not matter, only its size)
        Path sr4 = Files.createDirectories(dir.resolve("sr4")), hr4 = Files.createDirectories(dir.resolve("hr4"));
        Path lr4 = Files.createDirectories(dir.resolve("lr4"));
        ImageFiles.write(sr4.resolve("a.png"), ImageFiles.read(sr.resolve("0801.png")).crop(0, 0, 112, 204));
        ImageFiles.write(hr4.resolve("a.png"), ImageFiles.read(hr.resolve("0801.bmp")).crop(0, 0, 112, 204));
        ImageFiles.write(lr4.resolve("a.png"), ImageFiles.read(hr.resolve("0801.bmp")).crop(0, 0, 28, 51));
        Result r = run("eval", "--sr", sr4.toString(), "--hr", hr4.toString(), "--lr", lr4.toString(), "--no-niqe", "--json");
        assertEquals(0, r.code(), r.all());
        assertEquals(4.0, jsonNumber(r.out(), "scale", 0));
        assertEquals(4.0, jsonNumber(r.out(), "crop", 0));
        assertEquals(psnrOf("eval", "--sr", sr4.toString(), "--hr", hr4.toString(), "--crop", "4", "--no-niqe", "--json"),
                jsonNumber(r.out(), "psnr", 0), 0.0);
        Result table = run("eval", "--sr", sr4.toString(), "--hr", hr4.toString(), "--lr", lr4.toString(), "--no-niqe");
        assertTrue(table.out().contains("4-pixel border cropped (the scale x4)"), table.out());

        ImageFiles.write(lr4.resolve("a.png"), ImageFiles.read(hr.resolve("0801.bmp")).crop(0, 0, 28, 50));
        assertOneLineError(run("eval", "--sr", sr4.toString(), "--hr", hr4.toString(), "--lr", lr4.toString()),
                "not an integer multiple", "50x28", "--scale");
        Files.move(lr4.resolve("a.png"), lr4.resolve("b.png"));
        assertOneLineError(run("eval", "--sr", sr4.toString(), "--hr", hr4.toString(), "--lr", lr4.toString()), "no image in --lr");
    }
}
