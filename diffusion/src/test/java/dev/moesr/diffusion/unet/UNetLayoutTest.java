package dev.moesr.diffusion.unet;

import dev.moesr.nn.io.SafeTensorsFile;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The architecture: the layout's state dict is exactly the built model's (names, order, shapes)
 * on small configurations, so counting the large presets from the layout counts what the UNet
 * would build; the released 8x shape has the released model's parameter count.
 */
@SuppressWarnings("try")   // scopes in tests only bound a region
class UNetLayoutTest {

    @Test
    void theReleasedEightTimesShapeHasTheReleasedParameterCount() {
        assertEquals(428_510_243L, UNetLayout.of(UNetConfig.moesrX8()).parameterCount(), "moesr-x8 with 16 space experts");
        assertEquals(113_622_563L, UNetLayout.of(UNetConfig.moesrX8().withSpaceExperts(0)).parameterCount(), "moesr-x8 without Space-MoE");
        assertEquals(6, UNetLayout.of(UNetConfig.moesrX8()).moeLayers(), "Space-MoE layers: 2 input blocks, the middle block, 3 output blocks");
    }

    @Test
    void largePresetsCountAsThePyTorchImplementationBuildsThem() throws IOException, URISyntaxException {
        Path file = Path.of(getClass().getResource("/unet/tiny_unet.safetensors").toURI());
        Map<String, String> meta;
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            meta = f.metadata();
        }
        int checked = 0;
        for (UNetConfig c : List.of(UNetConfig.moesrX8(), UNetConfig.moesrX4())) {
            for (int experts : new int[] {c.spaceExperts(), 0}) {
                String key = "parameters." + c.name() + ".experts_" + experts;
                assertTrue(meta.containsKey(key), "fixture metadata " + key);
                assertEquals(Long.parseLong(meta.get(key)), UNetLayout.of(c.withSpaceExperts(experts)).parameterCount(), key);
                checked++;
            }
        }
        assertEquals(4, checked);
    }

    static Stream<UNetConfig> smallConfigs() {
        return Stream.of(
                UNetConfig.tiny(),
                UNetConfig.tiny().withSpaceExperts(0),
                // the released shape at a fifth of the width: attention only at rate 8, the deepest level
                new UNetConfig("x8-narrow", 6, 3, 32, new int[] {1, 2, 2, 4}, 2, new int[] {16, 8}, 32, 2, 0f),
                // attention at the first level too, one expert, odd channel counts in and out
                new UNetConfig("mixed", 5, 1, 32, new int[] {1, 1, 2}, 2, new int[] {1, 4}, 16, 1, 0.1f));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smallConfigs")
    void theLayoutDescribesTheBuiltStateDictExactly(UNetConfig config) {
        try (Scope s = Scope.open()) {
            UNet unet = new UNet(config, new Philox(3));
            Map<String, Tensor> built = unet.stateDict();
            Map<String, int[]> described = UNetLayout.of(config).stateShapes();
            assertEquals(new ArrayList<>(described.keySet()), new ArrayList<>(built.keySet()), "state-dict names in order");
            for (var e : described.entrySet()) assertArrayEquals(e.getValue(), built.get(e.getKey()).dims(), e.getKey());
            assertEquals(UNetLayout.of(config).parameterCount(), unet.parameterCount());
            assertEquals(UNetLayout.of(config).moeLayers(), unet.spaceMoeLayers().size());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smallConfigs")
    void theAveragedLayoutDescribesTheAveragedUNetAndWhereEachTensorComesFrom(UNetConfig config) {
        try (Scope s = Scope.open()) {
            UNet unet = new UNet(config, new Philox(3), true);
            Map<String, Tensor> built = unet.stateDict();
            UNetLayout layout = UNetLayout.of(config);
            Map<String, int[]> described = layout.averagedStateShapes();
            assertEquals(new ArrayList<>(described.keySet()), new ArrayList<>(built.keySet()), "state-dict names in order");
            for (var e : described.entrySet()) assertArrayEquals(e.getValue(), built.get(e.getKey()).dims(), e.getKey());
            // as many parameters as one expert per layer
            assertEquals(UNetLayout.of(config.spaceExperts() == 0 ? config : config.withSpaceExperts(1)).parameterCount(), unet.parameterCount());
            Map<String, int[]> full = layout.stateShapes();
            var sources = layout.averagedSources();
            assertEquals(described.keySet(), sources.keySet());
            for (var e : sources.entrySet()) {
                boolean ffn = e.getKey().contains(".moe.ffn.");
                assertEquals(ffn ? config.spaceExperts() : 1, e.getValue().size(), e.getKey());
                for (String from : e.getValue()) assertArrayEquals(described.get(e.getKey()), full.get(from), e.getKey() + " from " + from);
            }
            assertEquals(unet.spaceMoeLayers().size(), layout.moeLayers());
            assertTrue(unet.spaceMoeLayers().stream().allMatch(SpaceMoE::isAveragedForm));
        }
    }

    @Test
    void ldmNamesStayAndTheSpaceMoEIsTheBlocksChildMoe() {
        Map<String, int[]> x8 = UNetLayout.of(UNetConfig.moesrX8()).stateShapes();
        // LDM names, including those after an attention block
        assertArrayEquals(new int[] {640, 160}, x8.get("time_embed.0.weight"));
        assertArrayEquals(new int[] {160, 6, 3, 3}, x8.get("input_blocks.0.0.weight"));
        assertArrayEquals(new int[] {160, 160, 3, 3}, x8.get("input_blocks.3.0.op.weight"));
        assertArrayEquals(new int[] {1920, 640, 1}, x8.get("input_blocks.10.1.qkv.weight"));
        assertArrayEquals(new int[] {640, 640, 3, 3}, x8.get("middle_block.2.out_layers.3.weight"));
        assertArrayEquals(new int[] {640, 1280, 1, 1}, x8.get("output_blocks.0.0.skip_connection.weight"));
        assertArrayEquals(new int[] {640, 640, 3, 3}, x8.get("output_blocks.2.2.conv.weight"));
        assertArrayEquals(new int[] {3, 160, 3, 3}, x8.get("out.2.weight"));
        // Space-MoE: <block>.moe, right where the attention blocks are (rate 8: input blocks 10, 11, the middle, output blocks 0-2)
        List<String> moeBlocks = new ArrayList<>();
        for (String k : x8.keySet()) if (k.endsWith(".moe.norm.weight")) moeBlocks.add(k.substring(0, k.length() - ".moe.norm.weight".length()));
        assertEquals(List.of("input_blocks.10", "input_blocks.11", "middle_block", "output_blocks.0", "output_blocks.1", "output_blocks.2"), moeBlocks);
        assertArrayEquals(new int[] {2560, 640}, x8.get("middle_block.moe.experts.15.0.weight"));
        assertArrayEquals(new int[] {640}, x8.get("output_blocks.2.moe.experts.0.2.bias"));
        assertFalse(x8.containsKey("middle_block.moe.experts.16.0.weight"));
        assertFalse(x8.containsKey("middle_block.3.in_layers.0.weight"), "the second middle ResBlock keeps LDM's index 2");
    }

    @Test
    void releasedNamesPutTheMoEAfterTheAttentionAndShiftWhatFollows() {
        Map<String, String> names = UNetLayout.of(UNetConfig.moesrX8()).releasedNames();
        assertEquals("input_blocks.10.1.qkv.weight", names.get("input_blocks.10.1.qkv.weight"));
        assertEquals("input_blocks.10.2.moe_norm.weight", names.get("input_blocks.10.moe.norm.weight"));
        assertEquals("input_blocks.10.2.moe_blocks.3.0.weight", names.get("input_blocks.10.moe.experts.3.0.weight"));
        assertEquals("middle_block.2.moe_blocks.15.3.bias", names.get("middle_block.moe.experts.15.2.bias"));
        assertEquals("middle_block.3.out_layers.3.weight", names.get("middle_block.2.out_layers.3.weight"));
        assertEquals("middle_block.0.in_layers.0.weight", names.get("middle_block.0.in_layers.0.weight"));
        assertEquals("output_blocks.2.3.conv.weight", names.get("output_blocks.2.2.conv.weight"));
        assertEquals("output_blocks.5.1.conv.weight", names.get("output_blocks.5.1.conv.weight"), "no MoE at rate 4: LDM's name");
        assertEquals(names.size(), new java.util.HashSet<>(names.values()).size(), "one released name per tensor");
    }

    @Test
    void aReleasedCheckpointConvertsToOurNames() {
        try (Scope s = Scope.open()) {
            UNet unet = new UNet(UNetConfig.tiny(), new Philox(21));
            Map<String, String> names = UNetLayout.of(UNetConfig.tiny()).releasedNames();
            Map<String, Tensor> checkpoint = new HashMap<>();
            for (var e : unet.stateDict().entrySet()) {
                checkpoint.put(ReleasedCheckpoint.MODEL_PREFIX + names.get(e.getKey()), e.getValue());
                checkpoint.put(ReleasedCheckpoint.EMA_PREFIX + names.get(e.getKey()).replace(".", ""), e.getValue().mul(2f));
            }
            checkpoint.put("first_stage_model.encoder.conv_in.weight", Tensor.zeros(1));
            Map<String, Tensor> raw = ReleasedCheckpoint.unetState(checkpoint, UNetConfig.tiny(), false);
            Map<String, Tensor> ema = ReleasedCheckpoint.unetState(checkpoint, UNetConfig.tiny(), true);
            assertEquals(new ArrayList<>(unet.stateDict().keySet()), new ArrayList<>(raw.keySet()));
            for (var e : unet.stateDict().entrySet()) {
                float[] v = e.getValue().toFloatArray(), twice = ema.get(e.getKey()).toFloatArray();
                assertArrayEquals(v, raw.get(e.getKey()).toFloatArray(), e.getKey());
                for (int i = 0; i < v.length; i++) assertEquals(2 * v[i], twice[i], e.getKey());
            }
            unet.loadStateDict(ema, true);
            checkpoint.remove(ReleasedCheckpoint.MODEL_PREFIX + "middle_block.3.in_layers.2.weight");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ReleasedCheckpoint.unetState(checkpoint, UNetConfig.tiny(), false));
            assertTrue(e.getMessage().contains("middle_block.3.in_layers.2.weight (our middle_block.2.in_layers.2.weight)"), e.getMessage());
            unet.release();
        }
    }

    @Test
    void metadataRoundTripsAndUnknownOrMissingKeysAreErrors() {
        for (String name : UNetConfig.presetNames()) {
            UNetConfig c = UNetConfig.byName(name);
            assertEquals(c, UNetConfig.fromMetadata(c.toMetadata()));
        }
        Map<String, String> meta = new HashMap<>(UNetConfig.tiny().toMetadata());
        meta.put("format", "pt");   // other keys are someone else's
        assertEquals(UNetConfig.tiny(), UNetConfig.fromMetadata(meta));
        meta.put("unet.num_heads", "4");
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> UNetConfig.fromMetadata(meta));
        assertTrue(unknown.getMessage().contains("unet.num_heads"), unknown.getMessage());
        meta.remove("unet.num_heads");
        meta.remove("unet.channel_mult");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> UNetConfig.fromMetadata(meta));
        assertTrue(missing.getMessage().contains("unet.channel_mult"), missing.getMessage());
        meta.put("unet.channel_mult", "1,two");
        assertThrows(IllegalArgumentException.class, () -> UNetConfig.fromMetadata(meta));
    }

    @Test
    void badConfigurationsAreRefusedWithTheReason() {
        IllegalArgumentException groups = assertThrows(IllegalArgumentException.class,
                () -> new UNetConfig("x", 6, 3, 40, new int[] {1, 2}, 1, new int[] {2}, 32, 4, 0f));
        assertTrue(groups.getMessage().contains("GroupNorm32"), groups.getMessage());
        IllegalArgumentException heads = assertThrows(IllegalArgumentException.class,
                () -> new UNetConfig("x", 6, 3, 32, new int[] {1, 3}, 1, new int[] {2}, 64, 4, 0f));
        assertTrue(heads.getMessage().contains("head channels"), heads.getMessage());
        IllegalArgumentException rates = assertThrows(IllegalArgumentException.class,
                () -> new UNetConfig("x", 6, 3, 32, new int[] {1, 2}, 1, new int[] {3}, 32, 4, 0f));
        assertTrue(rates.getMessage().contains("downsample factors"), rates.getMessage());
        assertThrows(IllegalArgumentException.class, () -> UNetConfig.tiny().withSpaceExperts(-1));
        IllegalArgumentException name = assertThrows(IllegalArgumentException.class, () -> UNetConfig.byName("moesr-x16"));
        assertTrue(name.getMessage().contains("moesr-x8"), name.getMessage());
    }

    @Test
    void ldmStyleEmaNamesDoNotClash() {
        // the EMA (nn's Ema, LDM's LitEma) names its shadows by the parameter name without dots
        for (String name : UNetConfig.presetNames()) {
            Map<String, int[]> shapes = UNetLayout.of(UNetConfig.byName(name)).stateShapes();
            java.util.Set<String> dotless = new java.util.HashSet<>();
            for (String k : shapes.keySet()) assertTrue(dotless.add(k.replace(".", "")), name + ": " + k + " clashes once dots are removed");
        }
    }

    @Test
    void architectureIgnoresNameAndDropout() {
        UNetConfig tiny = UNetConfig.tiny();
        assertTrue(tiny.sameArchitecture(new UNetConfig("renamed", 6, 3, 32, new int[] {1, 2}, 1, new int[] {2}, 32, 4, 0.2f)));
        assertTrue(tiny.sameArchitecture(tiny.withDropout(0.1f)));
        assertFalse(tiny.sameArchitecture(tiny.withSpaceExperts(2)));
        assertFalse(tiny.equals(tiny.withDropout(0.1f)));
    }

    @Test
    void theConfigRecordCopiesItsArrays() {
        int[] mult = {1, 2};
        UNetConfig c = new UNetConfig("t", 6, 3, 32, mult, 1, new int[] {2}, 32, 4, 0f);
        mult[1] = 5;
        assertArrayEquals(new int[] {1, 2}, c.channelMult());
        c.channelMult()[0] = 7;
        assertArrayEquals(new int[] {1, 2}, c.channelMult());
    }
}
