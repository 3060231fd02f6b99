package dev.moesr.diffusion;

import dev.moesr.diffusion.unet.SpaceMoE;
import dev.moesr.diffusion.unet.UNet;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MoesrModelTest {

    @Test
    void savesAndLoadsEveryWeightWithItsConfiguration(@TempDir Path dir) throws IOException {
        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(3));
        Path f = dir.resolve("tiny.safetensors");
        m.save(f);
        MoesrModel back = MoesrModel.open(f);
        assertEquals(m.config(), back.config());
        Map<String, Tensor> a = m.stateDict(), b = back.stateDict();
        assertEquals(a.keySet(), b.keySet());
        assertTrue(a.keySet().stream().anyMatch(k -> k.startsWith("sampling.experts.3.")), "four experts");
        assertTrue(a.keySet().stream().anyMatch(k -> k.startsWith("first_stage.decoder.")), "the first stage");
        for (String k : a.keySet()) assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
        m.release();
        back.release();
    }

    @Test
    void filesThatAreNotModelsOrAreCutShortAreRefused(@TempDir Path dir) throws IOException {
        Path other = dir.resolve("other.safetensors");
        SafeTensors.write(other, Map.of("x", Tensor.zeros(2)), Map.of());
        assertTrue(assertThrows(IOException.class, () -> MoesrModel.open(other)).getMessage().contains("not a moesr model file"));

        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(3));
        Path f = dir.resolve("tiny.safetensors");
        m.save(f);
        byte[] bytes = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        assertThrows(IOException.class, () -> MoesrModel.open(cut));
        assertThrows(IOException.class, () -> MoesrModel.open(dir.resolve("missing.safetensors")));
        m.release();
    }

    /** The outputs an inference pass computes: each expert's noise prediction at a timestep of its stage, and a decode with LR features. */
    @SuppressWarnings("try")
    private static float[][] inferenceOutputs(MoesrModel m) {
        m.eval();
        MoesrConfig c = m.config();
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            Philox rng = new Philox(11);
            Tensor x = Tensor.randn(rng, 2, c.unet().inChannels(), 16, 16);
            Tensor latent = Tensor.randn(rng, 1, c.vq().embedDim(), 8, 8);
            Tensor lr = Tensor.rand(rng, 1, 3, 32, 32).mul(2f).sub(1f);
            float[][] out = new float[c.experts() + 1][];
            for (int k = 0; k < c.experts(); k++) out[k] = m.sampling().expert(k).forward(x, k * 250 + 17).toFloatArray();
            out[c.experts()] = m.firstStage().decode(latent, m.firstStage().lrFeatures(lr)).toFloatArray();
            return out;
        }
    }

    @Test
    void theAveragedFormInfersTheSameValuesBitForBitFromEitherFile(@TempDir Path dir) throws IOException {
        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(3));
        Path full = dir.resolve("full.safetensors"), averaged = dir.resolve("averaged.safetensors");
        m.save(full);
        m.saveAveraged(averaged, false);
        m.release();
        try (SafeTensorsFile f = SafeTensorsFile.open(averaged)) {
            assertEquals(MoesrModel.AVERAGED, f.metadata().get(MoesrModel.SPACE_MOE_KEY), "the metadata says what the file is");
            assertTrue(f.metadata().get(MoesrModel.AVERAGED_NOTE_KEY).contains("inference only"));
            assertTrue(f.entries().containsKey("sampling.experts.0.middle_block.moe.ffn.0.weight"), "one FFN per Space-MoE layer");
            assertTrue(f.entries().keySet().stream().noneMatch(k -> k.contains(".moe.experts.")));
        }
        assertTrue(Files.size(averaged) < Files.size(full));

        MoesrModel fullModel = MoesrModel.open(full);
        MoesrModel fromFull = MoesrModel.openForInference(full, Device.CPU);
        MoesrModel fromAveraged = MoesrModel.openForInference(averaged, Device.CPU);
        try {
            assertFalse(fullModel.averaged());
            assertTrue(fromFull.averaged() && fromAveraged.averaged());
            // the averaged FFN is the experts' mean as inference computes it
            UNet u = fullModel.sampling().expert(1);
            SpaceMoE moe = u.spaceMoeLayers().get(0);
            Tensor w = SpaceMoE.meanOfExperts(moe.experts, i -> moe.expert(i).namedParameters().get("0.weight").tensor(), false);
            assertArrayEquals(w.toFloatArray(), fromAveraged.sampling().expert(1).spaceMoeLayers().get(0).averagedFfn().namedParameters().get("0.weight").tensor().toFloatArray());
            w.release();
            for (String k : fromFull.stateDict().keySet()) {
                assertArrayEquals(fromAveraged.stateDict().get(k).toFloatArray(), fromFull.stateDict().get(k).toFloatArray(), k);
            }

            float[][] want = inferenceOutputs(fullModel);
            for (MoesrModel got : List.of(fromFull, fromAveraged)) {
                float[][] have = inferenceOutputs(got);
                for (int i = 0; i < want.length; i++) assertArrayEquals(want[i], have[i], "output " + i);   // bit for bit, no tolerance
            }
        } finally {
            fullModel.release();
            fromFull.release();
            fromAveraged.release();
        }
    }

    @Test
    void theAveragedFormIsForInferenceOnly(@TempDir Path dir) throws IOException {
        MoesrModel m = new MoesrModel(MoesrConfig.tiny(), new Philox(3));
        Path averaged = dir.resolve("averaged.safetensors");
        m.saveAveraged(averaged, false);
        m.release();
        IOException e = assertThrows(IOException.class, () -> MoesrModel.open(averaged));
        assertTrue(e.getMessage().contains("averaged inference form of a tiny model"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());

        MoesrModel a = MoesrModel.openForInference(averaged, Device.CPU);
        try {
            UNet u = a.sampling().expert(0);
            SpaceMoE moe = u.spaceMoeLayers().get(0);
            assertTrue(moe.isAveragedForm());
            assertTrue(assertThrows(IllegalStateException.class, () -> moe.expert(0)).getMessage().contains("holds only the average of its 4 experts"));
            assertThrows(IllegalStateException.class, () -> moe.shareWeights(0.5));
            u.train();
            Tensor x = Tensor.zeros(1, 6, 16, 16);
            IllegalStateException t = assertThrows(IllegalStateException.class, () -> u.forward(x, 3));
            assertTrue(t.getMessage().contains("cannot be trained"), t.getMessage());
            u.eval();
            moe.setInference(SpaceMoE.Inference.RANDOM_ROUTING);
            assertThrows(IllegalStateException.class, () -> u.forward(x, 3));
            x.release();
        } finally {
            a.release();
        }
    }
}
