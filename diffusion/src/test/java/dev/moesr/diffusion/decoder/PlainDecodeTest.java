package dev.moesr.diffusion.decoder;

import dev.moesr.diffusion.MoesrConfig;
import dev.moesr.diffusion.autoencoder.VqModel;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The plain decode of a frequency-compensated first stage is its VQ-GAN's decode, bit for bit, whatever the compensation holds. */
class PlainDecodeTest {
    @Test
    @SuppressWarnings("try")
    void decodePlainIsTheVqModelsDecode() {
        MoesrConfig c = MoesrConfig.tiny();
        VqModel vq = new VqModel(c.vq(), new Philox(1));
        FrequencyCompensatedVqModel fs = new FrequencyCompensatedVqModel(c.vq(), c.decoder(), new Philox(2));
        try (Scope s = Scope.open(); GradMode off = GradMode.off()) {
            fs.loadFirstStage(vq.stateDict());
            vq.eval();
            fs.eval();
            Tensor z = Tensor.randn(new Philox(3), dev.moesr.tensor.Device.CPU, 1, c.vq().embedDim(), 8, 8);
            float[] expected = vq.decode(z).toFloatArray();
            assertArrayEquals(expected, fs.decodePlain(z).toFloatArray());
            Tensor lrUp = Tensor.randn(new Philox(4), dev.moesr.tensor.Device.CPU, 1, 3, 32, 32);
            assertFalse(java.util.Arrays.equals(expected, fs.decode(z, fs.lrFeatures(lrUp)).toFloatArray()),
                    "the compensated decode differs (random fusion and refinement)");
            assertArrayEquals(expected, fs.decodePlain(z).toFloatArray(), "and the plain one is unchanged after it");
        } finally {
            vq.release();
            fs.release();
        }
    }
}
