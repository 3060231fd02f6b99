package dev.moesr.diffusion.decoder;

import dev.moesr.diffusion.autoencoder.Fixtures;
import dev.moesr.diffusion.autoencoder.VqConfig;
import dev.moesr.diffusion.autoencoder.VqModel;
import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parameter counts, layout, fusion weight, freezing, first-stage loading and input checks of the frequency-compensated decoder. */
class FrequencyDecoderArchitectureTest {
    private Scope scope;
    @TempDir Path dir;

    @BeforeEach void open() { scope = Scope.open(); }

    @AfterEach void close() { scope.close(); }

    private static VqConfig vq(int ch, List<Integer> mult, int groups) {
        return new VqConfig(3, 3, ch, mult, 1, 3, 3, 16, groups, 1e-6f, 0.25f);
    }

    private static FrequencyDecoderConfig tinyFc(int contextBlocks) {
        return new FrequencyDecoderConfig(2, 4, 1f, contextBlocks, 4, 0f, 4, 1, 0.01f);
    }

    /** decoder + CFW + AFF of the released 8x model: 49,696,003 (the design notes' 49.7M); post_quant_conv and codebook not included. */
    @Test
    void releasedAndPaperCountsMatchThePyTorchModules() throws IOException {
        SafeTensors.Contents counts = Fixtures.load("decoder/parameter_counts");
        long released = FrequencyCompensatedDecoder.parameterCount(VqConfig.f4(), FrequencyDecoderConfig.released());
        assertEquals(49_696_003, released);
        assertEquals(Long.parseLong(Fixtures.meta(counts, "fc_released_decoder")), released);
        assertEquals(Long.parseLong(Fixtures.meta(counts, "fc_paper_decoder")),
                FrequencyCompensatedDecoder.parameterCount(VqConfig.f4(), FrequencyDecoderConfig.paper()));
        assertEquals(9, FrequencyDecoderConfig.released().affBlocks());
        assertEquals(6, FrequencyDecoderConfig.paper().affBlocks());
    }

    @Test
    void countsFromTheConfigEqualTheBuiltModules() {
        for (VqConfig c : List.of(vq(8, List.of(1, 2, 2), 4), vq(8, List.of(1, 1, 2, 2), 4))) {
            for (int context : new int[] {0, 1, 4}) {
                var d = new FrequencyCompensatedDecoder(c, tinyFc(context), new Philox(1));
                assertEquals(FrequencyCompensatedDecoder.parameterCount(c, tinyFc(context)), d.parameterCount(), c + ", " + context + " context blocks");
                assertEquals(5 + context, d.refinement().blockCount());
                d.release();
            }
        }
    }

    @Test
    void fusionSitsAtTheInnerLevelsWithReleasedNames() {
        var four = new FrequencyCompensatedDecoder(vq(8, List.of(1, 1, 2, 2), 4), tinyFc(1), new Philox(1));
        assertArrayEquals(new int[] {1, 2}, four.fusionLevels());
        var m = new FrequencyCompensatedVqModel(vq(8, List.of(1, 2, 2), 4), tinyFc(2), new Philox(2));
        Map<String, Tensor> sd = m.stateDict();
        for (String k : List.of("decoder.fusion_layer_1.encode_enc_1.conv_out.weight", "decoder.fusion_layer_1.encode_enc_2.1.rdb3.conv5.bias",
                "decoder.fusion_layer_1.encode_enc_3.norm2.weight", "decoder.unet_1.conv1.filter.w1", "decoder.unet_1.context_refine.1.up_dim.weight",
                "decoder.unet_1.up_conv3.mlp.block.exp_1x1.block.norm.running_var", "decoder.unet_1.up2.0.bias", "decoder.up.1.upsample.conv.weight")) {
            assertTrue(sd.containsKey(k), "state dict lacks " + k);
        }
        assertArrayEquals(new int[] {16, 32, 3, 3}, sd.get("decoder.fusion_layer_1.encode_enc_1.conv1.weight").dims(), "ResBlock(2c -> c) at level 1 (c = 16)");
        assertArrayEquals(new int[] {64, 16, 1, 1}, sd.get("decoder.unet_1.up3.0.weight").dims(), "up3: 1x1 conv 2c -> 4 * 2c for the pixel shuffle");
        assertEquals(InvertedResidual.hiddenWidth(32, 4), sd.get("decoder.unet_1.up_conv3.mlp.block.exp_1x1.block.conv.weight").dim(0));
    }

    @Test
    void hiddenWidthRoundsAsMakeDivisible() {
        assertEquals(512, InvertedResidual.hiddenWidth(128, 4));
        assertEquals(2048, InvertedResidual.hiddenWidth(512, 4));
        assertEquals(16, InvertedResidual.hiddenWidth(3, 4));
        assertEquals(24, InvertedResidual.hiddenWidth(5, 4));
        assertEquals(8, InvertedResidual.hiddenWidth(1, 2));
    }

    @Test
    void withFusionWeightZeroTheLrImageHasNoEffect() {
        var m = new FrequencyCompensatedVqModel(vq(8, List.of(1, 2, 2), 4), tinyFc(1), new Philox(3));
        m.eval();
        Tensor latent = Tensor.randn(new Philox(4), 1, 3, 4, 4);
        List<Tensor> a = m.lrFeatures(Tensor.rand(new Philox(5), 1, 3, 16, 16));
        List<Tensor> b = m.lrFeatures(Tensor.rand(new Philox(6), 1, 3, 16, 16));
        float[] withA = m.decode(latent, a).toFloatArray();
        assertTrue(!java.util.Arrays.equals(withA, m.decode(latent, b).toFloatArray()), "w = 1: the LR features matter");
        m.setFusionWeight(0f);
        assertArrayEquals(m.decode(latent, a).toFloatArray(), m.decode(latent, b).toFloatArray(), "w = 0: they do not");
        assertThrows(IllegalArgumentException.class, () -> m.setFusionWeight(Float.NaN));
    }

    @Test
    void stage2FreezingLeavesOnlyFusionAndRefinementTrainable() {
        VqConfig c = vq(8, List.of(1, 2, 2), 4);
        var m = new FrequencyCompensatedVqModel(c, tinyFc(1), new Philox(7));
        m.freezeForStage2();
        long expected = 0;
        for (var module : m.decoder().compensationModules()) expected += module.parameterCount();
        assertEquals(expected, m.trainableParameterCount());
        assertEquals(FrequencyCompensatedDecoder.parameterCount(c, tinyFc(1)) - c.decoderParameterCount(), m.trainableParameterCount());
        assertTrue(m.namedTrainableParameters().keySet().stream().allMatch(k -> k.startsWith("decoder.fusion_layer_1.") || k.startsWith("decoder.unet_1.")));
    }

    @Test
    void loadsAPlainFirstStageAndKeepsTheNewParts() throws IOException {
        VqConfig c = vq(8, List.of(1, 2, 2), 4);
        var plain = new VqModel(c, new Philox(8));
        var m = new FrequencyCompensatedVqModel(c, tinyFc(1), new Philox(9));
        float[] unetBefore = m.stateDict().get("decoder.unet_1.conv1.filter.w1").toFloatArray();
        Path file = dir.resolve("vq.safetensors");
        plain.save(file, Map.of());
        m.loadFirstStage(file);
        assertArrayEquals(plain.stateDict().get("decoder.up.2.block.1.conv2.weight").toFloatArray(),
                m.stateDict().get("decoder.up.2.block.1.conv2.weight").toFloatArray());
        assertArrayEquals(plain.stateDict().get("quantize.embedding.weight").toFloatArray(), m.stateDict().get("quantize.embedding.weight").toFloatArray());
        assertArrayEquals(unetBefore, m.stateDict().get("decoder.unet_1.conv1.filter.w1").toFloatArray());

        Map<String, Tensor> partial = new LinkedHashMap<>(plain.stateDict());
        partial.remove("encoder.conv_in.weight");
        var e = assertThrows(IllegalArgumentException.class, () -> m.loadFirstStage(partial));
        assertTrue(e.getMessage().contains("encoder.conv_in.weight"), e.getMessage());
    }

    @Test
    void badInputIsRejectedWithAReason() {
        VqConfig c = vq(8, List.of(1, 2, 2), 4);
        var m = new FrequencyCompensatedVqModel(c, tinyFc(1), new Philox(10));
        Tensor z = Tensor.zeros(1, 3, 4, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> m.decoder().forward(z));
        assertTrue(e.getMessage().contains("lrFeatures"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.decode(z, List.of()));
        // features of an LR image that was not upscaled to the output size
        List<Tensor> small = m.lrFeatures(Tensor.zeros(1, 3, 8, 8));
        e = assertThrows(IllegalArgumentException.class, () -> m.decode(z, small));
        assertTrue(e.getMessage().contains("upscaled"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FrequencyCompensatedVqModel(vq(8, List.of(1, 2), 4), tinyFc(1), new Philox(1)));
        assertThrows(IllegalArgumentException.class, () -> new FrequencyDecoderConfig(2, 32, 1f, 4, 32, 1f, 8, 1, 0.01f));
        assertThrows(IllegalArgumentException.class, () -> new FrequencyDecoderConfig(2, 32, 1f, -1, 32, 0.1f, 8, 1, 0.01f));
        assertThrows(IllegalArgumentException.class, () -> new AffUNet(8, tinyFc(0), new Philox(1)).forward(Tensor.zeros(1, 8, 6, 8)));
    }
}
