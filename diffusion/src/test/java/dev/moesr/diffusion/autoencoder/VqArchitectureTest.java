package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parameter counts, state-dict layout and input checks of the VQ first stage. */
class VqArchitectureTest {
    private Scope scope;

    @BeforeEach void open() { scope = Scope.open(); }

    @AfterEach void close() { scope.close(); }

    private static VqConfig small(int ch, List<Integer> mult, int blocks, int groups) {
        return new VqConfig(3, 3, ch, mult, blocks, 3, 3, 32, groups, 1e-6f, 0.25f);
    }

    /**
     * The reference counts of VQ-f4 are those of the encoder and the decoder modules alone:
     * quant_conv (12), post_quant_conv (12) and the codebook (8192 x 3) are separate modules of
     * VQModel and not part of either number. (Encoder + quant_conv would be 22,337,423; decoder +
     * post_quant_conv + codebook 32,985,359.)
     */
    @Test
    void vqF4CountsAreTheReferenceNumbers() throws IOException {
        VqConfig f4 = VqConfig.f4();
        assertEquals(22_337_411, f4.encoderParameterCount());
        assertEquals(32_960_771, f4.decoderParameterCount());
        assertEquals(12, f4.quantConvParameterCount());
        assertEquals(24_576, f4.codebookParameterCount());
        // the same figures from the PyTorch reference modules, built at full size by the fixture script
        SafeTensors.Contents counts = Fixtures.load("decoder/parameter_counts");
        assertEquals(Long.parseLong(Fixtures.meta(counts, "f4_encoder")), f4.encoderParameterCount());
        assertEquals(Long.parseLong(Fixtures.meta(counts, "f4_decoder")), f4.decoderParameterCount());
        assertEquals(Long.parseLong(Fixtures.meta(counts, "f4_total")), f4.parameterCount());
        assertEquals(4, f4.downsamplingFactor());
    }

    @Test
    void countsFromTheConfigEqualTheBuiltModules() {
        for (VqConfig c : List.of(small(8, List.of(1, 2), 2, 4), small(8, List.of(1, 2, 4), 1, 4), small(4, List.of(1, 1, 2, 2), 3, 2), small(6, List.of(1), 1, 3))) {
            VqModel m = new VqModel(c, new Philox(1));
            assertEquals(c.encoderParameterCount(), m.encoder().parameterCount(), "encoder of " + c);
            assertEquals(c.decoderParameterCount(), m.decoder().parameterCount(), "decoder of " + c);
            assertEquals(c.parameterCount(), m.parameterCount(), "VqModel of " + c);
            m.release();
        }
    }

    @Test
    void stateDictFollowsTamingNames() {
        VqModel m = new VqModel(small(8, List.of(1, 2, 4), 2, 4), new Philox(1));
        Map<String, Tensor> sd = m.stateDict();
        for (String k : List.of("encoder.conv_in.weight", "encoder.down.0.block.1.conv2.weight", "encoder.down.0.downsample.conv.weight",
                "encoder.down.1.block.0.nin_shortcut.weight", "encoder.mid.block_1.norm1.weight", "encoder.mid.attn_1.proj_out.bias",
                "encoder.norm_out.bias", "encoder.conv_out.weight", "decoder.conv_in.weight", "decoder.mid.attn_1.k.weight",
                "decoder.up.2.block.2.conv1.weight", "decoder.up.2.upsample.conv.weight", "decoder.up.1.block.0.nin_shortcut.weight",
                "decoder.up.0.block.2.norm2.bias", "decoder.norm_out.weight", "decoder.conv_out.bias", "quant_conv.weight",
                "post_quant_conv.bias", "quantize.embedding.weight")) {
            assertTrue(sd.containsKey(k), "state dict lacks " + k);
        }
        Set<String> keys = sd.keySet();
        assertFalse(keys.contains("encoder.down.2.downsample.conv.weight"), "the last encoder level does not downsample");
        assertFalse(keys.contains("decoder.up.0.upsample.conv.weight"), "decoder level 0 does not upsample");
        assertFalse(keys.contains("decoder.up.0.block.3.conv1.weight"), "numResBlocks + 1 decoder blocks per level");
        assertArrayEquals(new int[] {32, 3}, sd.get("quantize.embedding.weight").dims());
        // the decoder's level 2 takes the deepest width (32), level 0 ends at ch (8)
        assertArrayEquals(new int[] {32, 32, 3, 3}, sd.get("decoder.up.2.block.0.conv1.weight").dims());
        assertArrayEquals(new int[] {8, 16, 1, 1}, sd.get("decoder.up.0.block.0.nin_shortcut.weight").dims());
    }

    @Test
    void shapesThroughTheModel() {
        VqModel m = new VqModel(small(8, List.of(1, 2, 4), 1, 4), new Philox(2));
        Tensor x = Tensor.rand(new Philox(3), 2, 3, 20, 12);
        Tensor latent = m.encode(x);
        assertArrayEquals(new int[] {2, 3, 5, 3}, latent.dims());
        assertArrayEquals(new int[] {2, 3, 20, 12}, m.decode(latent).dims());
        List<Tensor> f = m.encoder().levelFeatures(x, 1);
        assertArrayEquals(new int[] {2, 16, 10, 6}, f.get(0).dims());
    }

    @Test
    void badInputIsRejectedWithAReason() {
        VqModel m = new VqModel(small(8, List.of(1, 2, 4), 1, 4), new Philox(2));
        var e = assertThrows(IllegalArgumentException.class, () -> m.encode(Tensor.zeros(1, 3, 18, 12)));
        assertTrue(e.getMessage().contains("multiples of 4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.encode(Tensor.zeros(1, 4, 16, 16)));
        assertThrows(IllegalArgumentException.class, () -> m.decode(Tensor.zeros(1, 4, 4, 4)));
        assertThrows(IllegalArgumentException.class, () -> m.decoder().forward(Tensor.zeros(3, 4, 4)));
        assertThrows(IllegalArgumentException.class, () -> m.encoder().levelFeatures(Tensor.zeros(1, 3, 8, 8), 1, 0));
        assertThrows(IllegalArgumentException.class, () -> m.encoder().levelFeatures(Tensor.zeros(1, 3, 8, 8), 3));
        assertThrows(IllegalArgumentException.class, () -> small(8, List.of(1, 3), 1, 16), "level width 24 is not a multiple of 16 groups");
        assertThrows(IllegalArgumentException.class, () -> small(8, List.of(), 1, 4));
        assertThrows(IllegalArgumentException.class, () -> new VqConfig(3, 3, 8, List.of(1, 2), 1, 3, 3, 0, 4, 1e-6f, 0.25f));
        assertThrows(IllegalArgumentException.class, () -> new VqConfig(3, 3, 8, List.of(1, 2), 1, 3, 3, 16, 4, 0f, 0.25f));
    }
}
