package dev.moesr.app;

import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.unet.ReleasedCheckpoint;
import dev.moesr.diffusion.unet.UNetLayout;
import dev.moesr.nn.Init;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.nn.io.torch.TorchCheckpoint;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The tiny preset saved by PyTorch in the authors' released layout
 * (src/test/resources/released/make_released.py, Debian's PyTorch): four LatentDiffusion state
 * dicts model_stage{0..3}.ckpt (flat, as their loader expects; stage 1 inside a Lightning
 * checkpoint) and a flat VQModelResiUnet state dict fa_vae.pth, imported straight from the
 * PyTorch files and from their safetensors conversion, with torch's own view of every tensor
 * (released_tiny.sums.tsv) to check that each landed under the right name.
 */
@SuppressWarnings("try")
class ImportReleasedFilesTest {
    static final String LAYOUT = "tiny_layout.tsv";

    @TempDir
    static Path dir;

    static Path released;
    static List<Path> ckptExperts = new ArrayList<>(), safetensorsExperts = new ArrayList<>();
    static Path faVae, faVaeSafetensors;

    static Path resource(String name) {
        try {
            var url = ImportReleasedFilesTest.class.getResource("/released/" + name);
            assertNotNull(url, name + " is missing: run sr-app/src/test/resources/released/make_released.py");
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** What docs/models.md's Python line does: every tensor as float32 under its own key, in a safetensors file. */
    static Path convert(Path ckpt) throws IOException {
        Path to = dir.resolve(ckpt.getFileName() + ".safetensors");
        try (Scope s = Scope.open(); TorchCheckpoint t = TorchCheckpoint.open(ckpt)) {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (String k : t.names()) all.put(k, t.read(k, Device.CPU));
            SafeTensors.write(to, all, null);
        }
        return to;
    }

    /** The fixtures, and their safetensors conversions (made once). */
    static synchronized void files() throws IOException {
        if (faVae != null) return;
        for (int k = 0; k < 4; k++) {
            Path p = resource("model_stage" + k + ".ckpt");
            ckptExperts.add(p);
            safetensorsExperts.add(convert(p));
        }
        faVae = resource("fa_vae.pth");
        faVaeSafetensors = convert(faVae);
    }

    private static String list(List<Path> files) {
        return files.stream().map(Path::toString).collect(Collectors.joining(","));
    }

    private static CommandRunner.Result importTiny(List<Path> experts, Path firstStage, Path out, String... more) {
        List<String> args = new ArrayList<>(List.of("import", "--config", "tiny", "--experts", list(experts), "--first-stage", firstStage.toString(),
                "--decoder", firstStage.toString(), "--out", out.toString()));
        args.addAll(List.of(more));
        return CommandRunner.run(args.toArray(String[]::new));
    }

    /** The layout the fixtures were made from: each line "unet|first_stage TAB name TAB dims". */
    static List<String> layoutLines() {
        MoesrConfig c = MoesrConfig.tiny();
        List<String> lines = new ArrayList<>();
        Map<String, int[]> shapes = UNetLayout.of(c.unet()).stateShapes();
        for (var e : UNetLayout.of(c.unet()).releasedNames().entrySet()) lines.add("unet\t" + e.getValue() + "\t" + dims(shapes.get(e.getKey())));
        FrequencyCompensatedVqModel fs;
        try (Init.Deferral d = Init.deferred(Device.CPU)) {
            fs = new FrequencyCompensatedVqModel(c.vq(), c.decoder(), new Philox(0));
        }
        for (var e : fs.stateDict().entrySet()) lines.add("first_stage\t" + e.getKey() + "\t" + dims(e.getValue().dims()));
        fs.release();
        return lines;
    }

    private static String dims(int[] d) {
        return java.util.Arrays.stream(d).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    @Test
    void theFixturesWereMadeFromTodaysLayout() throws IOException {
        List<String> now = layoutLines();
        if (System.getProperty("moesr.writeReleasedLayout") != null) {   // mvn test -Dtest=ImportReleasedFilesTest -Dmoesr.writeReleasedLayout
            Files.write(Path.of("src/test/resources/released/" + LAYOUT), now);
        }
        assertEquals(now, Files.readAllLines(resource(LAYOUT)),
                "the tiny layout changed: rerun with -Dmoesr.writeReleasedLayout, then make_released.py, and commit both");
    }

    /** torch's view of each tensor of the fixtures: file -> key -> {float64 sum, first value, last value}. */
    static Map<String, Map<String, double[]>> torchSums() throws IOException {
        Map<String, Map<String, double[]>> out = new HashMap<>();
        for (String line : Files.readAllLines(resource("released_tiny.sums.tsv"))) {
            String[] f = line.split("\t");
            out.computeIfAbsent(f[0], x -> new HashMap<>()).put(f[1], new double[] {Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4])});
        }
        return out;
    }

    private static void assertTorchSees(double[] want, float[] got, String what) {
        assertEquals((float) want[1], got[0], 0f, what + ": first value");   // float32 values, exactly
        assertEquals((float) want[2], got[got.length - 1], 0f, what + ": last value");
        double sum = 0;
        for (float v : got) sum += v;
        assertEquals(want[0], sum, 1e-9 * Math.max(1, Math.abs(want[0])) + 1e-6, what + ": sum");
    }

    @Test
    void theAuthorsTorchFilesImportAsTheirSafetensorsConversionDoesBitForBit() throws IOException {
        files();
        Path fromCkpt = dir.resolve("from-ckpt.safetensors"), fromSafetensors = dir.resolve("from-safetensors.safetensors");
        var r = importTiny(ckptExperts, faVae, fromCkpt);
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("(EMA) from " + ckptExperts.get(0) + " (PyTorch checkpoint)"), r.out());
        assertTrue(r.out().contains("VQModel state dict, PyTorch checkpoint"), r.out());
        assertTrue(r.out().contains("2 loss.* entries ignored"), r.out());
        assertTrue(r.out().contains("decoder: "), r.out());
        var s = importTiny(safetensorsExperts, faVaeSafetensors, fromSafetensors);
        assertEquals(0, s.code(), s.all());
        assertArrayEquals(Files.readAllBytes(fromSafetensors), Files.readAllBytes(fromCkpt), "the same model file, byte for byte");

        // every imported tensor is the one torch saw under the released name
        MoesrConfig c = MoesrConfig.tiny();
        Map<String, Map<String, double[]>> sums = torchSums();
        Map<String, String> releasedNames = UNetLayout.of(c.unet()).releasedNames();
        int checked = 0;
        try (Scope sc = Scope.open(); SafeTensorsFile m = SafeTensorsFile.open(fromCkpt)) {
            for (int k = 0; k < 4; k++) {
                Map<String, double[]> file = sums.get("model_stage" + k + ".ckpt");
                for (var e : releasedNames.entrySet()) {
                    String key = ReleasedCheckpoint.releasedKey(e.getValue(), true);
                    assertTorchSees(file.get(key), m.readFloats("sampling.experts." + k + "." + e.getKey()), "expert " + k + " " + key);
                    checked++;
                }
            }
            Map<String, double[]> vae = sums.get("fa_vae.pth");
            for (String name : m.names()) {
                if (!name.startsWith("first_stage.")) continue;
                String key = name.substring("first_stage.".length());
                assertTorchSees(vae.get(key), m.readFloats(name), "fa_vae " + key);
                checked++;
            }
            assertEquals(m.names().size(), checked, "every tensor of the model file was checked");
        }

        // and it runs: one denoising step of each expert is finite
        MoesrModel model = MoesrModel.openForInference(fromCkpt, Device.CPU);
        try (Scope sc = Scope.open(); GradMode off = GradMode.off()) {
            model.eval();
            Tensor x = Tensor.randn(new Philox(1), 1, c.unet().inChannels(), 16, 16);
            for (int k = 0; k < 4; k++) {
                for (float v : model.sampling().expert(k).forward(x, k * 250 + 5).toFloatArray()) assertTrue(Float.isFinite(v));
            }
        } finally {
            model.release();
        }
    }

    @Test
    void theAveragedFormFromTheTorchFilesIsTheAveragedFullImport() throws IOException {
        files();
        Path full = dir.resolve("full.safetensors"), averaged = dir.resolve("averaged.safetensors"), fromFull = dir.resolve("averaged-from-full.safetensors");
        assertEquals(0, importTiny(ckptExperts, faVae, full).code());
        var r = importTiny(ckptExperts, faVae, averaged, "--averaged", "--json");
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("\"form\": \"averaged\""), r.out());
        MoesrModel m = MoesrModel.open(full);
        try {
            m.saveAveraged(fromFull, false);
        } finally {
            m.release();
        }
        assertArrayEquals(Files.readAllBytes(fromFull), Files.readAllBytes(averaged), "import --averaged writes what averaging the full import writes");
        assertTrue(Files.size(averaged) < Files.size(full));
        // F16
        Path half = dir.resolve("half.safetensors");
        assertEquals(0, importTiny(ckptExperts, faVae, half, "--dtype", "f16").code());
        try (SafeTensorsFile f = SafeTensorsFile.open(half)) {
            assertTrue(f.entries().values().stream().allMatch(e -> e.dtype().equals("F16")));
        }
    }

    @Test
    void aLightningCheckpointAndAFlatStateDictBothRead() throws IOException {
        files();
        try (TorchCheckpoint lightning = TorchCheckpoint.open(ckptExperts.get(1)); TorchCheckpoint flat = TorchCheckpoint.open(ckptExperts.get(0))) {
            assertEquals(1000L, lightning.metadata().get("global_step"), "stage 1 is a Lightning checkpoint");
            assertFalse(flat.metadata().containsKey("global_step"), "stage 0 is a flat state dict");
            assertEquals(flat.names(), lightning.names(), "the same keys either way");
        }
    }

    private static void assertRefused(CommandRunner.Result r, String expected, Path out) {
        assertEquals(1, r.code(), r.all());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("sr-app import: "), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertFalse(Files.exists(out), "nothing may be written on an error");
        try (var files = Files.list(out.getParent())) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(out.getFileName().toString())), "no temporary file is left");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void torchFilesThatDoNotFitAreRefusedInOneLineAndNothingIsWritten() throws IOException {
        files();
        Path out = dir.resolve("refused/never.safetensors");
        Files.createDirectories(out.getParent());
        MoesrConfig c = MoesrConfig.tiny();
        String firstOurs = UNetLayout.of(c.unet()).releasedNames().keySet().iterator().next();
        String firstKey = ReleasedCheckpoint.releasedKey(UNetLayout.of(c.unet()).releasedNames().get(firstOurs), true);

        List<Path> missing = new ArrayList<>(ckptExperts);
        missing.set(2, resource("missing_key.ckpt"));
        assertRefused(importTiny(missing, faVae, out), "expert 2 (" + resource("missing_key.ckpt") + "): the checkpoint lacks 1 EMA UNet entries", out);

        List<Path> misShaped = new ArrayList<>(ckptExperts);
        misShaped.set(3, resource("wrong_shape.ckpt"));
        int[] want = UNetLayout.of(c.unet()).stateShapes().get(firstOurs);
        assertRefused(importTiny(misShaped, faVae, out), firstKey + " (our " + firstOurs + ") is [3] in the file, tiny expects " + Shape.of(want), out);

        List<Path> vaeAsExpert = new ArrayList<>(ckptExperts);
        vaeAsExpert.set(0, faVae);
        assertRefused(importTiny(vaeAsExpert, faVae, out), "expert 0 (" + faVae + ") has no EMA weights", out);

        // another configuration's layout
        var r = CommandRunner.run("import", "--config", "moesr-x4-small", "--experts", list(ckptExperts), "--first-stage", faVae.toString(), "--out", out.toString());
        assertRefused(r, "expert 0 (" + ckptExperts.get(0) + ")", out);

        // a file cut short: the error names it, and the half-written model file is removed
        Path cut = dir.resolve("cut.ckpt");
        byte[] bytes = Files.readAllBytes(ckptExperts.get(3));
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 4096));
        List<Path> withCut = new ArrayList<>(ckptExperts);
        withCut.set(3, cut);
        assertRefused(importTiny(withCut, faVae, out), cut.toString(), out);
    }
}
