package dev.moesr.app;

import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.MoesrModel;
import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.unet.ReleasedCheckpoint;
import dev.moesr.diffusion.unet.UNetLayout;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Released-layout files are written here from a tiny model with the authors' names (UNetLayout's
 * translation, LitEma's naming for the EMA), imported, and compared weight for weight.
 */
class ImportCommandTest {
    @TempDir
    static Path dir;

    /** The model whose weights the files carry (EMA and first stage); {@code rawSource} supplies the raw UNets. */
    static MoesrModel source, rawSource;
    static List<Path> experts = new ArrayList<>();
    static Path ldmFirstStage, plainFirstStage, decoderFile;

    @BeforeAll
    static void releasedFiles() throws IOException {
        MoesrConfig c = MoesrConfig.tiny();
        source = new MoesrModel(c, new Philox(7));
        rawSource = new MoesrModel(c, new Philox(8));
        Map<String, String> released = UNetLayout.of(c.unet()).releasedNames();
        Map<String, Tensor> vq = new LinkedHashMap<>(), compensation = new LinkedHashMap<>();
        for (var e : source.firstStage().stateDict().entrySet()) {
            (isCompensation(e.getKey()) ? compensation : vq).put(e.getKey(), e.getValue());
        }
        for (int k = 0; k < c.experts(); k++) {
            Map<String, Tensor> ckpt = new LinkedHashMap<>();
            Map<String, Tensor> ema = source.sampling().expert(k).stateDict(), rawState = rawSource.sampling().expert(k).stateDict();
            for (var e : released.entrySet()) {
                ckpt.put(ReleasedCheckpoint.MODEL_PREFIX + e.getValue(), rawState.get(e.getKey()));
                ckpt.put(ReleasedCheckpoint.EMA_PREFIX + e.getValue().replace(".", ""), ema.get(e.getKey()));
            }
            for (var e : vq.entrySet()) ckpt.put("first_stage_model." + e.getKey(), e.getValue());   // as LDM stores it
            ckpt.put("betas", Tensor.of(new float[] {1e-4f, 2e-2f}, 2));
            Path p = dir.resolve("expert" + k + ".safetensors");
            SafeTensors.write(p, ckpt, null);
            experts.add(p);
        }
        ldmFirstStage = experts.get(0);
        plainFirstStage = dir.resolve("vq.safetensors");
        Map<String, Tensor> plain = new LinkedHashMap<>(vq);
        plain.put("loss.discriminator.main.0.weight", Tensor.of(new float[] {1, 2, 3}, 3));   // saved along with a VQ-GAN, ignored
        SafeTensors.write(plainFirstStage, plain, null);
        decoderFile = dir.resolve("decoder.safetensors");
        Map<String, Tensor> all = new LinkedHashMap<>(vq);   // the authors' decoder checkpoint holds the whole VQ model too
        all.putAll(compensation);
        SafeTensors.write(decoderFile, all, null);
    }

    @AfterAll
    static void release() {
        source.release();
        rawSource.release();
    }

    private static boolean isCompensation(String key) {
        return key.startsWith("decoder.fusion_layer_") || key.startsWith("decoder.unet_1.");
    }

    private static String expertList() {
        return String.join(",", experts.stream().map(Path::toString).toList());
    }

    private static void assertSameWeights(Map<String, Tensor> want, Map<String, Tensor> got, String what) {
        for (var e : want.entrySet()) {
            Tensor g = got.get(e.getKey());
            assertNotNull(g, what + " " + e.getKey());
            assertArrayEquals(e.getValue().toFloatArray(), g.toFloatArray(), what + " " + e.getKey());   // bit-identical (no tolerance)
        }
    }

    @Test
    void importsEveryWeightBitForBit() throws IOException {
        Path out = dir.resolve("model.safetensors");
        var r = CommandRunner.run("import", "--config", "tiny", "--experts", expertList(), "--first-stage", ldmFirstStage.toString(),
                "--decoder", decoderFile.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("LDM checkpoint, first_stage_model.* keys"), r.out());
        assertTrue(r.out().contains("(EMA)"), r.out());
        MoesrModel m = MoesrModel.open(out);
        try {
            assertEquals("tiny", m.config().name());
            assertEquals(source.stateDict().keySet(), m.stateDict().keySet());
            assertSameWeights(source.stateDict(), m.stateDict(), "model");
        } finally {
            m.release();
        }
    }

    @Test
    void rawWeightsAndAPlainVqStateDict() throws IOException {
        Path out = dir.resolve("raw.safetensors");
        var r = CommandRunner.run("import", "--config", "tiny", "--experts", expertList(), "--first-stage", plainFirstStage.toString(),
                "--raw", "--out", out.toString());
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("VQModel state dict"), r.out());
        assertTrue(r.out().contains("1 loss.* entries ignored"), r.out());
        assertTrue(r.out().contains("no --decoder"), r.out());
        var json = CommandRunner.run("import", "--config", "tiny", "--experts", expertList(), "--first-stage", plainFirstStage.toString(),
                "--raw", "--out", out.toString(), "--overwrite", "--json");
        assertEquals(0, json.code(), json.all());
        assertTrue(json.out().startsWith("{"), "only the JSON document on standard output: " + json.out());
        assertTrue(json.out().contains("\"weights\": \"raw\""), json.out());
        assertTrue(json.out().contains("VQModel state dict"), json.out());
        MoesrModel m = MoesrModel.open(out);
        try {
            assertSameWeights(rawSource.sampling().stateDict(), m.sampling().stateDict(), "raw UNet");
            Map<String, Tensor> vq = new LinkedHashMap<>(source.firstStage().stateDict());
            vq.keySet().removeIf(ImportCommandTest::isCompensation);
            assertSameWeights(vq, m.firstStage().stateDict(), "first stage");
            // the decoder's own layers were not imported: they get the initial values of a fresh first stage (seed 0)
            MoesrConfig c = MoesrConfig.tiny();
            FrequencyCompensatedVqModel fresh = new FrequencyCompensatedVqModel(c.vq(), c.decoder(), new Philox(0));
            try {
                Map<String, Tensor> init = new LinkedHashMap<>(fresh.stateDict());
                init.keySet().removeIf(k -> !isCompensation(k));
                assertFalse(init.isEmpty());
                assertSameWeights(init, m.firstStage().stateDict(), "initial decoder");
            } finally {
                fresh.release();
            }
        } finally {
            m.release();
        }
    }

    private static void assertOneLineError(CommandRunner.Result r, String expected, Path out) {
        assertEquals(1, r.code(), r.all());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("sr-app import: "), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertFalse(Files.exists(out), "nothing may be written on an error");
    }

    @Test
    void wrongNumberOfExpertsAndMissingFiles() {
        Path out = dir.resolve("never.safetensors");
        assertOneLineError(CommandRunner.run("import", "--config", "tiny", "--experts", experts.get(0).toString(),
                "--first-stage", plainFirstStage.toString(), "--out", out.toString()), "--experts takes 4 files for tiny", out);
        String missing = experts.get(0) + "," + experts.get(1) + "," + dir.resolve("nope.safetensors") + "," + experts.get(3);
        assertOneLineError(CommandRunner.run("import", "--config", "tiny", "--experts", missing,
                "--first-stage", plainFirstStage.toString(), "--out", out.toString()), "no such file: " + dir.resolve("nope.safetensors") + " (--experts file 3)", out);
        assertOneLineError(CommandRunner.run("import", "--config", "tiny", "--experts", expertList(),
                "--first-stage", plainFirstStage.toString(), "--decoder", dir.resolve("none").toString(), "--out", out.toString()), "(--decoder)", out);
        assertOneLineError(CommandRunner.run("import", "--config", "tiny-ish", "--experts", expertList(),
                "--first-stage", plainFirstStage.toString(), "--out", out.toString()), "is not a preset", out);
    }

    @Test
    void anExistingOutputNeedsOverwrite() throws IOException {
        Path out = dir.resolve("existing.safetensors");
        Files.writeString(out, "keep me");
        var r = CommandRunner.run("import", "--config", "tiny", "--experts", expertList(), "--first-stage", plainFirstStage.toString(), "--out", out.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("exists; pass --overwrite"), r.err());
        assertEquals("keep me", Files.readString(out));
        r = CommandRunner.run("import", "--config", "tiny", "--experts", expertList(), "--first-stage", plainFirstStage.toString(), "--out", out.toString(), "--overwrite");
        assertEquals(0, r.code(), r.all());
        MoesrModel.open(out).release();
    }

    @Test
    void missingKeysAndShapeMismatchesAreNamed() throws IOException {
        Path out = dir.resolve("never2.safetensors");
        // a file without EMA entries: says so and points to --raw
        Map<String, Tensor> rawOnly = new LinkedHashMap<>();
        Map<String, String> released = UNetLayout.of(MoesrConfig.tiny().unet()).releasedNames();
        Map<String, Tensor> unet = source.sampling().expert(0).stateDict();
        for (var e : released.entrySet()) rawOnly.put(ReleasedCheckpoint.MODEL_PREFIX + e.getValue(), unet.get(e.getKey()));
        Path rawFile = dir.resolve("raw-only.safetensors");
        SafeTensors.write(rawFile, rawOnly, null);
        String withRaw = rawFile + "," + experts.get(1) + "," + experts.get(2) + "," + experts.get(3);
        assertOneLineError(CommandRunner.run("import", "--config", "tiny", "--experts", withRaw, "--first-stage", plainFirstStage.toString(),
                "--out", out.toString()), "expert 0 (" + rawFile + ") has no EMA weights", out);

        // one UNet entry gone: named
        String firstReleased = released.values().iterator().next();
        Map<String, Tensor> lacking = new LinkedHashMap<>(rawOnly);
        lacking.remove(ReleasedCheckpoint.MODEL_PREFIX + firstReleased);
        Path lackingFile = dir.resolve("lacking.safetensors");
        SafeTensors.write(lackingFile, lacking, null);
        String withLacking = experts.get(0) + "," + lackingFile + "," + experts.get(2) + "," + experts.get(3);
        assertOneLineError(CommandRunner.run("import", "--config", "tiny", "--experts", withLacking, "--first-stage", plainFirstStage.toString(),
                "--raw", "--out", out.toString()), ReleasedCheckpoint.MODEL_PREFIX + firstReleased, out);

        // one UNet entry of the wrong shape: the key and both shapes
        Map<String, Tensor> misShaped = new LinkedHashMap<>(rawOnly);
        String key = ReleasedCheckpoint.MODEL_PREFIX + firstReleased;
        Tensor right = misShaped.get(key);
        Tensor wrong = Tensor.of(new float[3], 3);
        misShaped.put(key, wrong);
        Path misShapedFile = dir.resolve("mis-shaped.safetensors");
        SafeTensors.write(misShapedFile, misShaped, null);
        wrong.release();
        String withMisShaped = experts.get(0) + "," + experts.get(1) + "," + misShapedFile + "," + experts.get(3);
        var r = CommandRunner.run("import", "--config", "tiny", "--experts", withMisShaped, "--first-stage", plainFirstStage.toString(),
                "--raw", "--out", out.toString());
        assertOneLineError(r, key + " (our " + released.keySet().iterator().next() + ") is [3] in the file, tiny expects " + right.shape(), out);

        // a first stage lacking keys, and one with a mis-shaped key
        Map<String, Tensor> vq = new LinkedHashMap<>(source.firstStage().stateDict());
        vq.keySet().removeIf(ImportCommandTest::isCompensation);
        String vqKey = vq.keySet().iterator().next();
        Tensor vqRight = vq.remove(vqKey);
        Path vqLacking = dir.resolve("vq-lacking.safetensors");
        SafeTensors.write(vqLacking, vq, null);
        assertOneLineError(CommandRunner.run("import", "--config", "tiny", "--experts", expertList(), "--first-stage", vqLacking.toString(),
                "--out", out.toString()), "1 missing keys, e.g. [" + vqKey + "]", out);
        Tensor vqWrong = Tensor.of(new float[2], 2);
        vq.put(vqKey, vqWrong);
        Path vqMisShaped = dir.resolve("vq-mis-shaped.safetensors");
        SafeTensors.write(vqMisShaped, vq, null);
        vqWrong.release();
        assertOneLineError(CommandRunner.run("import", "--config", "tiny", "--experts", expertList(), "--first-stage", vqMisShaped.toString(),
                "--out", out.toString()), vqKey + " is [2] in the file, tiny expects " + vqRight.shape(), out);

        // a decoder file without the decoder's own layers
        assertOneLineError(CommandRunner.run("import", "--config", "tiny", "--experts", expertList(), "--first-stage", plainFirstStage.toString(),
                "--decoder", plainFirstStage.toString(), "--out", out.toString()), "holds no frequency-compensated decoder weights", out);
    }
}
