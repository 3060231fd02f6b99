package dev.moesr.diffusion;

import dev.moesr.diffusion.decoder.FrequencyCompensatedVqModel;
import dev.moesr.diffusion.unet.UNet;
import dev.moesr.tensor.Philox;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class MoesrConfigTest {

    @Test
    void presetsSurviveTheMetadataRoundTrip() {
        for (String name : MoesrConfig.presetNames()) {
            MoesrConfig c = MoesrConfig.byName(name);
            assertEquals(c, MoesrConfig.fromMetadata(c.toMetadata()), name);
        }
    }

    @Test
    void releasedEightTimesModelHasTheReferenceParameterCounts() {
        Map<String, Long> n = MoesrConfig.moesrX8().parameterCounts();
        assertEquals(428_510_243L, n.get("unet (one Sampling expert)"));
        assertEquals(113_622_563L, n.get("unet without the Space-MoE layers"));
        assertEquals(22_337_411L, n.get("vq encoder"));
        assertEquals(32_960_771L, n.get("vq decoder"));
        assertEquals(49_696_003L, n.get("frequency-compensated decoder (decoder + CFW + AFF)"));
    }

    @Test
    void tinyCountsAgreeWithTheBuiltModules() {
        MoesrConfig c = MoesrConfig.tiny();
        Map<String, Long> n = c.parameterCounts();
        UNet unet = new UNet(c.unet(), new Philox(1));
        FrequencyCompensatedVqModel vq = new FrequencyCompensatedVqModel(c.vq(), c.decoder(), new Philox(2));
        assertEquals(n.get("unet (one Sampling expert)"), unet.parameterCount());
        long encoder = n.get("vq encoder"), quant = n.get("quant_conv + post_quant_conv + codebook");
        long fc = n.get("frequency-compensated decoder (decoder + CFW + AFF)");
        assertEquals(encoder + quant + fc, vq.parameterCount());
        unet.release();
        vq.release();
    }

    @Test
    void badMetadataSaysWhatIsWrong() {
        Map<String, String> m = new HashMap<>(MoesrConfig.tiny().toMetadata());
        m.put("vq.ch", "many");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MoesrConfig.fromMetadata(m)).getMessage().contains("vq.ch"));
        Map<String, String> extra = new HashMap<>(MoesrConfig.tiny().toMetadata());
        extra.put("decoder.colour", "blue");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MoesrConfig.fromMetadata(extra)).getMessage().contains("decoder.colour"));
        assertThrows(IllegalArgumentException.class, () -> MoesrConfig.fromMetadata(Map.of()));
        assertThrows(IllegalArgumentException.class, () -> MoesrConfig.byName("huge"));
    }
}
