package dev.moesr.app;

import dev.moesr.app.CommandRunner.Result;
import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.MatlabResize;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static dev.moesr.app.CommandRunner.run;
import static org.junit.jupiter.api.Assertions.*;

class DegradeCommandTest {
    @TempDir
    Path dir;
    Path input;

    static Image picture(int channels, int h, int w, boolean alpha) {
        float[] px = new float[channels * h * w];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) px[(c * h + y) * w + x] = (float) (0.5 + 0.4 * Math.sin(0.21 * x + c) * Math.cos(0.17 * y));
            }
        }
        float[] a = null;
        if (alpha) {
            a = new float[h * w];
            for (int i = 0; i < a.length; i++) a[i] = i % w < w / 2 ? 1f : 0.25f;
        }
        return new Image(channels, h, w, px, a);
    }

    @BeforeEach
    void inputs() throws IOException {
        input = Files.createDirectories(dir.resolve("in"));
        ImageFiles.write(input.resolve("a.png"), picture(3, 35, 42, false));
        ImageFiles.write(input.resolve("b.jpg"), picture(3, 40, 40, false));
        ImageFiles.write(input.resolve("c.png"), picture(1, 33, 36, true));
    }

    private static void assertOneLineError(Result r, String... fragments) {
        assertEquals(1, r.code(), r.all());
        assertEquals(1, r.err().strip().split("\n").length, "one line: " + r.err());
        assertTrue(r.err().startsWith("sr-app degrade: "), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' in: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void helpDescribesTheOptions() {
        Result r = run("degrade", "--help");
        assertEquals(0, r.code());
        for (String o : new String[] {"--input", "--output", "--pipeline", "--scale", "--seed", "--overwrite", "--json", "--quiet", "--verbose"}) {
            assertTrue(r.out().contains(o), o + " in help");
        }
    }

    @Test
    void bicubicWritesLrAndCroppedHrFolders() throws IOException {
        Path out = dir.resolve("out");
        Result r = run("degrade", "--input", input.toString(), "--output", out.toString(), "--pipeline", "bicubic", "--scale", "4");
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("wrote 3 pairs"), r.out());
        Image hr = ImageFiles.read(out.resolve("hr/a.png")), lr = ImageFiles.read(out.resolve("lr/a.png"));
        assertEquals(32, hr.height());
        assertEquals(40, hr.width());
        assertEquals(8, lr.height());
        assertEquals(10, lr.width());
        float[] expected = MatlabResize.resize(hr.pixels(), 3, 32, 40, 0.25);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], lr.pixels()[i], 0.5 / 255 + 1e-6, "LR at " + i);
        Image c = ImageFiles.read(out.resolve("lr/c.png"));
        assertEquals(1, c.channels());
        assertTrue(c.hasAlpha(), "alpha is carried to the LR image");
        assertTrue(Files.exists(out.resolve("hr/b.png")));
    }

    @Test
    void realEsrganIsReproducibleFromTheSeed() throws IOException {
        Path one = dir.resolve("one"), two = dir.resolve("two"), other = dir.resolve("other");
        assertEquals(0, run("degrade", "--input", input.toString(), "--output", one.toString(), "--pipeline", "realesrgan", "--seed", "5").code());
        assertEquals(0, run("degrade", "--input", input.toString(), "--output", two.toString(), "--pipeline", "realesrgan", "--seed", "5", "-q").code());
        assertEquals(0, run("degrade", "--input", input.toString(), "--output", other.toString(), "--pipeline", "realesrgan", "--seed", "6").code());
        for (String f : new String[] {"lr/a.png", "hr/a.png", "lr/b.png", "lr/c.png"}) {
            assertArrayEquals(Files.readAllBytes(one.resolve(f)), Files.readAllBytes(two.resolve(f)), f + " differs between runs with the same seed");
        }
        assertFalse(Arrays.equals(Files.readAllBytes(one.resolve("lr/a.png")), Files.readAllBytes(other.resolve("lr/a.png"))),
                "seeds 5 and 6 gave the same LR");
        Image lr = ImageFiles.read(one.resolve("lr/b.png"));
        assertEquals(10, lr.width());
        assertEquals(10, lr.height());
    }

    @Test
    void existingOutputsAreKeptUnlessOverwriteIsGiven() throws IOException {
        Path out = dir.resolve("out");
        String[] args = {"degrade", "--input", input.toString(), "--output", out.toString(), "--pipeline", "realesrgan", "--seed", "1"};
        assertEquals(0, run(args).code());
        byte[] before = Files.readAllBytes(out.resolve("lr/a.png"));
        Result again = run("degrade", "--input", input.toString(), "--output", out.toString(), "--pipeline", "realesrgan", "--seed", "2");
        assertOneLineError(again, "already exist", "--overwrite");
        assertArrayEquals(before, Files.readAllBytes(out.resolve("lr/a.png")), "nothing was overwritten");
        Result forced = run("degrade", "--input", input.toString(), "--output", out.toString(), "--pipeline", "realesrgan", "--seed", "2", "--overwrite");
        assertEquals(0, forced.code(), forced.all());
        assertFalse(Arrays.equals(before, Files.readAllBytes(out.resolve("lr/a.png"))));
    }

    @Test
    void jsonListsEveryPairWithItsSteps() {
        Path out = dir.resolve("out");
        Result r = run("degrade", "--input", input.toString(), "--output", out.toString(), "--pipeline", "realesrgan", "--crop", "32", "--json");
        assertEquals(0, r.code(), r.all());
        String json = r.out().strip();
        assertTrue(json.startsWith("{") && json.endsWith("}"), json);
        for (String s : new String[] {"\"command\": \"degrade\"", "\"pipeline\": \"realesrgan\"", "\"name\": \"a\"", "\"name\": \"c\"",
                "\"lr_size\": [8, 8]", "\"hr_size\": [32, 32]", "\"steps\": [", "usm-sharpen target"}) {
            assertTrue(json.contains(s), s + " in " + json);
        }
    }

    @Test
    void badInputGivesOneLineErrors() throws IOException {
        assertOneLineError(run("degrade", "--input", dir.resolve("missing").toString(), "--output", dir.resolve("o").toString(),
                "--pipeline", "bicubic"), "no such folder");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertOneLineError(run("degrade", "--input", empty.toString(), "--output", dir.resolve("o").toString(), "--pipeline", "bicubic"),
                "holds no images");
        assertOneLineError(run("degrade", "--input", input.toString(), "--output", dir.resolve("o").toString(), "--pipeline", "bicubic",
                "--scale", "1"), "--scale");
        assertOneLineError(run("degrade", "--input", input.toString(), "--output", dir.resolve("o").toString(), "--pipeline", "bicubic",
                "--crop", "30"), "--crop", "multiple");
        assertOneLineError(run("degrade", "--input", input.toString(), "--output", dir.resolve("o2").toString(), "--pipeline", "bicubic",
                "--crop", "4000"), "smaller than the 4000x4000 crop");

        byte[] png = Files.readAllBytes(input.resolve("a.png"));
        Files.write(input.resolve("d.png"), Arrays.copyOf(png, png.length / 2));
        Result r = run("degrade", "--input", input.toString(), "--output", dir.resolve("o3").toString(), "--pipeline", "bicubic");
        assertOneLineError(r, "d.png", "truncated", "stopped after 3 of 4");

        Result verbose = run("degrade", "--input", input.toString(), "--output", dir.resolve("o4").toString(), "--pipeline", "bicubic", "--verbose");
        assertEquals(1, verbose.code());
        assertTrue(verbose.err().contains("\tat "), "--verbose shows the stack trace");

        Files.delete(input.resolve("d.png"));
        Files.writeString(dir.resolve("blocker"), "a file where the output folder should go");
        assertOneLineError(run("degrade", "--input", input.toString(), "--output", dir.resolve("blocker").toString(), "--pipeline", "bicubic"),
                "blocker");
    }

    @Test
    void commandLineMistakesExitWithCode2() {
        Result r = run("degrade", "--input", input.toString(), "--output", dir.resolve("o").toString(), "--pipeline", "lanczos");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("lanczos"), r.err());
        assertEquals(2, run("degrade", "--pipeline", "bicubic").code(), "missing --input and --output");
    }

    @Test
    void sameNameWithTwoExtensionsIsRefused() throws IOException {
        ImageFiles.write(input.resolve("a.bmp"), picture(3, 8, 8, false));
        assertOneLineError(run("degrade", "--input", input.toString(), "--output", dir.resolve("o").toString(), "--pipeline", "bicubic"),
                "a.bmp", "a.png", "rename");
    }
}
