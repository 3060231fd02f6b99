package dev.moesr.diffusion.sampling;

import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class ColorFixTest {

    private static double[] meanStd(float[] v, int from, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += v[from + i];
        double m = s / n, ss = 0;
        for (int i = 0; i < n; i++) ss += (v[from + i] - m) * (v[from + i] - m);
        return new double[] {m, Math.sqrt(ss / (n - 1) + 1e-5)};
    }

    @Test
    void eachChannelTakesTheReferencesMeanAndStd() {
        Philox rng = new Philox(1);
        Tensor img = Tensor.randn(rng, 2, 3, 16, 12).mul(0.3f).add(0.2f);
        Tensor ref = Tensor.rand(rng, 2, 3, 4, 3).mul(2f).sub(0.5f);
        float[] out = ColorFix.adain(img, ref).toFloatArray();
        float[] r = ref.toFloatArray(), x = img.toFloatArray();
        for (int p = 0; p < 6; p++) {
            double[] want = meanStd(r, p * 12, 12);
            double[] had = meanStd(x, p * 192, 192);
            for (int i = 0; i < 192; i += 37) {
                double expected = (x[p * 192 + i] - had[0]) / had[1] * want[1] + want[0];
                assertEquals(expected, out[p * 192 + i], 1e-4, "plane " + p + " pixel " + i);
            }
        }
    }

    @Test
    void mismatchedShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ColorFix.adain(Tensor.zeros(1, 3, 4, 4), Tensor.zeros(1, 1, 4, 4)));
    }
}
