package dev.moesr.app;

import dev.moesr.app.image.Image;
import dev.moesr.app.image.ImageFiles;
import dev.moesr.app.image.MatlabResize;
import dev.moesr.app.infer.SuperResolver;
import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.backend.Backends;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The infer command and the SuperResolver API on an untrained tiny model (4x) and small crops of
 * the test photographs, with 10 DDIM steps: sizes, ranges, determinism and behaviour, not quality.
 */
class InferCommandTest {
    @TempDir static Path shared;
    static Path modelFile;
    static Path photo;   // a 24x24 RGB crop of a real photograph

    @TempDir Path dir;

    @BeforeAll
    static void tinyModelAndPhoto() throws Exception {
        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(42));
        modelFile = shared.resolve("tiny.safetensors");
        m.save(modelFile);
        m.release();
        Image full = ImageFiles.read(Path.of(InferCommandTest.class.getResource("/photos/astronaut_0.png").toURI()));
        photo = shared.resolve("crop.png");
        ImageFiles.write(photo, full.toRgb().withoutAlpha().crop(40, 40, 24, 24));
    }

    private static String[] args(Path in, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("infer", "--input", in.toString(), "--output", out.toString(), "--model", modelFile.toString(),
                "--steps", "10", "--sampler", "ddim", "--device", "cpu", "--quiet"));
        for (String m : more) {
            int i = a.indexOf(m);
            if (m.startsWith("--") && i >= 0) {   // an option given again replaces the default here (picocli refuses repeats)
                a.remove(i);
                a.remove(i);
            }
        }
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    private static CommandRunner.Result ok(String... args) {
        CommandRunner.Result r = CommandRunner.run(args);
        assertEquals(0, r.code(), r.all());
        return r;
    }

    /** Fails with one line (no stack trace), names the problem, and writes nothing. */
    private static String fails(Path outDirToCheck, String... args) throws IOException {
        List<Path> before = outDirToCheck == null || !Files.exists(outDirToCheck) ? List.of() : list(outDirToCheck);
        CommandRunner.Result r = CommandRunner.run(args);
        assertEquals(1, r.code(), r.all());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
        if (outDirToCheck != null && Files.exists(outDirToCheck)) assertEquals(before, list(outDirToCheck), "nothing may be written on failure");
        return r.err();
    }

    private static List<Path> list(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.sorted().toList();
        }
    }

    @Test
    void upscalesOneImageFourTimesWithJsonResults() throws IOException {
        Path out = dir.resolve("sr.png");
        CommandRunner.Result r = ok(args(photo, out, "--json"));
        Image hr = ImageFiles.read(out);
        assertEquals(96, hr.width());
        assertEquals(96, hr.height());
        assertEquals(3, hr.channels());
        for (float v : hr.pixels()) assertTrue(v >= 0 && v <= 1);
        assertTrue(r.out().contains("\"file\"") && r.out().contains("sr.png") && r.out().replace(" ", "").contains("\"width\":96"), r.out());
        assertTrue(r.out().contains("seconds"), r.out());
    }

    @Test
    void sameSeedGivesIdenticalBytesAndAnotherSeedDiffers() throws IOException {
        Path a = dir.resolve("a.png"), b = dir.resolve("b.png"), c = dir.resolve("c.png");
        ok(args(photo, a, "--seed", "5", "--sampler", "ddpm"));
        ok(args(photo, b, "--seed", "5", "--sampler", "ddpm"));
        ok(args(photo, c, "--seed", "6", "--sampler", "ddpm"));
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
    }

    @Test
    void aSixteenBitInputGivesASixteenBitOutput() throws IOException {
        Path in = dir.resolve("deep.png"), out = dir.resolve("deep-sr.png");
        ImageFiles.write(in, ImageFiles.read(photo).withBitDepth(16));
        assertEquals(16, ImageFiles.read(in).bitDepth());
        ok(args(in, out));
        assertEquals(16, ImageFiles.read(out).bitDepth(), "Real-ESRGAN's rule: 16-bit in, 16-bit out");
        assertEquals(8, ImageFiles.read(photo).bitDepth());
    }

    @Test
    void oddSizesArePaddedAndCroppedBack() throws IOException {
        Path in = dir.resolve("odd.png"), out = dir.resolve("odd-sr.png");
        ImageFiles.write(in, ImageFiles.read(photo).crop(0, 0, 13, 11));
        ok(args(in, out));
        Image hr = ImageFiles.read(out);
        assertEquals(52, hr.height());
        assertEquals(44, hr.width());
    }

    @Test
    void alphaIsUpscaledAndKept() throws IOException {
        Image rgb = ImageFiles.read(photo);
        float[] alpha = new float[24 * 24];
        for (int y = 0; y < 24; y++) for (int x = 0; x < 24; x++) alpha[y * 24 + x] = x < 12 ? 1f : 0.25f;
        Path in = dir.resolve("rgba.png"), out = dir.resolve("rgba-sr.png");
        ImageFiles.write(in, rgb.withAlpha(alpha));
        ok(args(in, out));
        String jpeg = fails(dir, args(in, dir.resolve("rgba-sr.jpg")));
        assertTrue(jpeg.contains("alpha") && jpeg.contains(".png"), jpeg);
        Image hr = ImageFiles.read(out);
        assertTrue(hr.hasAlpha());
        assertEquals(96 * 96, hr.alpha().length);
        assertEquals(1f, hr.alpha()[10 * 96 + 5], 1e-2f);      // far from the edge between the halves
        assertEquals(0.25f, hr.alpha()[10 * 96 + 90], 1e-2f);
    }

    @Test
    void grayStaysGray() throws IOException {
        Image rgb = ImageFiles.read(photo);
        float[] g = Arrays.copyOf(rgb.pixels(), 24 * 24);
        Path in = dir.resolve("gray.png"), out = dir.resolve("gray-sr.png");
        ImageFiles.write(in, new Image(1, 24, 24, g));
        ok(args(in, out));
        Image hr = ImageFiles.read(out);
        assertEquals(1, hr.channels());
        assertEquals(96, hr.width());
        Path jpg = dir.resolve("gray-sr.jpg");   // the output's extension picks the format
        ok(args(in, jpg));
        byte[] head = Files.readAllBytes(jpg);
        assertTrue((head[0] & 0xFF) == 0xFF && (head[1] & 0xFF) == 0xD8, "a JPEG file starts with FF D8");
        assertEquals(96, ImageFiles.read(jpg).height());
    }

    @Test
    void tiledSamplingAndDecodingGiveAnImageOfTheSameSizeCloseToTheUntiledOne() throws IOException {
        Path whole = dir.resolve("whole.png"), tiled = dir.resolve("tiled.png");
        ok(args(photo, whole));
        ok(args(photo, tiled, "--tile", "16", "--overlap", "8"));   // a 24x24 latent in 4 overlapping tiles
        Image a = ImageFiles.read(whole), b = ImageFiles.read(tiled);
        assertEquals(a.pixels().length, b.pixels().length);
        double diff = 0;
        for (int i = 0; i < a.pixels().length; i++) diff += Math.abs(a.pixels()[i] - b.pixels()[i]);
        diff /= a.pixels().length;
        // an untrained model's tiles see different context (group norm, attention): close, not equal
        assertTrue(diff < 0.1, "mean absolute difference " + diff);
    }

    @Test
    void colourFixMovesChannelMeansTowardsTheUpscaledLr() throws IOException {
        Path plain = dir.resolve("plain.png"), fixed = dir.resolve("fixed.png");
        ok(args(photo, plain));
        ok(args(photo, fixed, "--color-fix"));
        Image lr = ImageFiles.read(photo);
        float[] up = MatlabResize.resizeTo(lr.pixels(), 3, 24, 24, 96, 96);
        double[] target = channelMeans(up, 96 * 96);
        double[] p = channelMeans(ImageFiles.read(plain).pixels(), 96 * 96), f = channelMeans(ImageFiles.read(fixed).pixels(), 96 * 96);
        double errPlain = 0, errFixed = 0;
        for (int c = 0; c < 3; c++) {
            errPlain += Math.abs(p[c] - target[c]);
            errFixed += Math.abs(f[c] - target[c]);
        }
        assertTrue(errFixed < errPlain && errFixed < 0.05, "colour fix error " + errFixed + " vs without " + errPlain);
    }

    private static double[] channelMeans(float[] rgb, int n) {
        double[] m = new double[3];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < n; i++) m[c] += rgb[c * n + i];
            m[c] /= n;
        }
        return m;
    }

    @Test
    void folderInputWritesOnePngPerImageAndRefusesToOverwrite() throws IOException {
        Path in = Files.createDirectory(dir.resolve("in")), out = dir.resolve("out");
        Files.copy(photo, in.resolve("one.png"));
        ImageFiles.write(in.resolve("two.bmp"), ImageFiles.read(photo).crop(0, 0, 8, 10));
        ok(args(in, out));
        assertEquals(List.of(out.resolve("one.png"), out.resolve("two.png")), list(out));
        assertEquals(40, ImageFiles.read(out.resolve("two.png")).width());
        byte[] before = Files.readAllBytes(out.resolve("one.png"));
        String m = fails(out, args(in, out, "--seed", "3"));
        assertTrue(m.contains("already exist") && m.contains("--overwrite"), m);
        assertArrayEquals(before, Files.readAllBytes(out.resolve("one.png")));
        ok(args(in, out, "--seed", "3", "--overwrite"));
        assertFalse(Arrays.equals(before, Files.readAllBytes(out.resolve("one.png"))));
    }

    @Test
    void badInputsGetOneLineAndWriteNothing() throws IOException {
        Path out = Files.createDirectory(dir.resolve("out"));
        Path truncated = dir.resolve("cut.png");
        byte[] bytes = Files.readAllBytes(photo);
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        assertTrue(fails(out, args(truncated, out.resolve("x.png"))).contains("cut.png"));

        Path zero = Files.write(dir.resolve("zero.png"), rawPng(0, 5));
        assertTrue(fails(out, args(zero, out.resolve("x.png"))).contains("no pixels"));

        String big = fails(out, args(photo, out.resolve("x.png"), "--max-pixels", "100"));
        assertTrue(big.contains("crop.png"), big);

        assertTrue(fails(out, args(dir.resolve("missing.png"), out.resolve("x.png"))).contains("missing.png"));

        String scale = fails(out, args(photo, dir.resolve("new").resolve("x.png"), "--scale", "8"));
        assertTrue(scale.contains("--scale 8") && scale.contains("4x"), scale);
        assertFalse(Files.exists(dir.resolve("new")), "no output folder is created before the model is checked");

        Path aFile = Files.writeString(dir.resolve("a-file"), "not a folder");
        String noFolder = fails(out, args(photo, aFile.resolve("x.png")));
        assertTrue(noFolder.contains("cannot create the output folder"), noFolder);

        String steps = fails(out, args(photo, out.resolve("x.png"), "--steps", "7"));
        assertTrue(steps.contains("--steps"), steps);
    }

    @Test
    void missingOrTruncatedModelsAreOneLineErrors() throws IOException {
        Path out = Files.createDirectory(dir.resolve("out"));
        List<String> a = new ArrayList<>(List.of(args(photo, out.resolve("x.png"))));
        a.set(a.indexOf("--model") + 1, dir.resolve("nope.safetensors").toString());
        String missing = fails(out, a.toArray(new String[0]));
        assertTrue(missing.contains("nope.safetensors"), missing);

        Path cut = dir.resolve("cut.safetensors");
        byte[] bytes = Files.readAllBytes(modelFile);
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 1000));
        a.set(a.indexOf("--model") + 1, cut.toString());
        String truncated = fails(out, a.toArray(new String[0]));
        assertTrue(truncated.contains("cut.safetensors"), truncated);
    }

    @Test
    void unwritableOutputFolderIsRefusedBeforeSampling() throws IOException {
        Path ro = Files.createDirectory(dir.resolve("ro"));
        boolean enforced = ro.toFile().setWritable(false, false) && !Files.isWritable(ro);
        try {
            // root ignores permission bits (CI runs as root); sysfs refuses new files to everyone
            Path folder = enforced ? ro : Path.of("/sys/kernel");
            assumeTrue(enforced || Files.isDirectory(folder), "running as root without /sys/kernel: no folder that refuses files");
            String m = fails(ro, args(photo, folder.resolve("x.png")));
            assertTrue(m.contains("not writable"), m);
            assertFalse(Files.exists(folder.resolve("x.png")));
        } finally {
            ro.toFile().setWritable(true, false);
        }
    }

    @Test
    void outOfMemoryIsRecognisedFromTheJvmAndFromGpuMessages() {
        assertTrue(InferCommand.isOutOfMemory(new OutOfMemoryError("Java heap space")));
        assertTrue(InferCommand.isOutOfMemory(new RuntimeException("launch failed", new IllegalStateException("CUDA error: out of memory"))));
        assertFalse(InferCommand.isOutOfMemory(new IllegalArgumentException("bad shape")));
    }

    @Test
    void theAveragedModelFileAndTheFullOneGiveTheSameImageBitForBit() throws IOException {
        // the full model as SuperResolver.open builds it (every expert, averaged when it samples) is the reference
        Image lr = ImageFiles.read(photo);
        Image reference;
        try (SuperResolver sr = SuperResolver.of(MoesrModel.open(modelFile), Device.parse("cpu"))) {
            reference = sr.upscale(lr, new SuperResolver.Options().steps(10).sampler(SuperResolver.Sampler.DDIM).seed(0));
        }
        Path averaged = dir.resolve("averaged.safetensors");
        MoesrModel m = MoesrModel.open(modelFile);
        m.saveAveraged(averaged, false);
        m.release();
        assertTrue(Files.size(averaged) < Files.size(modelFile));
        Path fromFull = dir.resolve("full.png"), fromAveraged = dir.resolve("averaged.png"), referencePng = dir.resolve("reference.png");
        ok(args(photo, fromFull));
        ok(args(photo, fromAveraged, "--model", averaged.toString()));
        ImageFiles.write(referencePng, reference);
        assertArrayEquals(Files.readAllBytes(referencePng), Files.readAllBytes(fromFull));
        assertArrayEquals(Files.readAllBytes(referencePng), Files.readAllBytes(fromAveraged));
        assertArrayEquals(ImageFiles.read(referencePng).pixels(), ImageFiles.read(fromAveraged).pixels());
    }

    @Test
    void theLibraryApiUpscalesAnImageInMemory() throws IOException {
        Image lr = ImageFiles.read(photo);
        List<String> seen = new ArrayList<>();
        try (SuperResolver sr = SuperResolver.open(modelFile, Device.parse("cpu"))) {
            assertEquals(4, sr.scale());
            Image hr = sr.upscale(lr, new SuperResolver.Options().steps(10).sampler(SuperResolver.Sampler.DDIM).seed(1)
                    .progress((phase, done, total) -> seen.add(phase + " " + done + "/" + total)));
            assertEquals(96, hr.width());
            assertEquals(96, hr.height());
            assertNotNull(hr.pixels());
            for (float v : hr.pixels()) assertTrue(v >= 0 && v <= 1);
            long afterFirst = Backends.cpu().bytesInUse();   // the experts' averaged Space-MoE weights are cached by the first call
            Image again = sr.upscale(lr, new SuperResolver.Options().steps(10).sampler(SuperResolver.Sampler.DDIM).seed(1));
            assertArrayEquals(hr.pixels(), again.pixels());
            List<String> tiled = new ArrayList<>();
            sr.upscale(lr, new SuperResolver.Options().steps(10).sampler(SuperResolver.Sampler.DDIM).seed(2).tile(8).overlap(4)
                    .progress((phase, done, total) -> tiled.add(phase + " " + done + "/" + total)));
            // a 24x24 latent in 8x8 tiles overlapping by 4: 5 x 5 tiles, each called once per step, then decoded once
            assertEquals(250 + 25, tiled.size());
            assertEquals("SAMPLING 250/250", tiled.get(249));
            assertEquals("DECODING 25/25", tiled.get(tiled.size() - 1));
            assertEquals(afterFirst, Backends.cpu().bytesInUse(), "every temporary of sampling and (tiled) decoding is released");
        }
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 10; i++) expected.add("SAMPLING " + i + "/10");   // an untiled image: one denoiser call per step
        expected.add("DECODING 1/1");
        assertEquals(expected, seen);
    }

    /** A PNG with the given header size and no real pixels (a zero side is what this is for). */
    static byte[] rawPng(int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        byte[] ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0).array();
        pngChunk(out, "IHDR", ihdr);
        pngChunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void pngChunk(ByteArrayOutputStream out, String type, byte[] data) {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.writeBytes(ByteBuffer.allocate(4).putInt(data.length).array());
        out.writeBytes(t);
        out.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.writeBytes(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
