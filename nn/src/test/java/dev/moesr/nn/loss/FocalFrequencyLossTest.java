package dev.moesr.nn.loss;

import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@SuppressWarnings("try")   // scopes in tests only bound a region
class FocalFrequencyLossTest {

    static Stream<Long> cases() { return Gen.seeds("focal-frequency", 15); }

    /** Orthonormal 2-D DFT of each [h, w] plane, by the definition: {re, im}. */
    static double[][] dft2(double[] x, int planes, int h, int w) {
        double[] re = new double[x.length], im = new double[x.length];
        double norm = 1 / Math.sqrt((double) h * w);
        for (int p = 0; p < planes; p++)
            for (int u = 0; u < h; u++)
                for (int v = 0; v < w; v++) {
                    double sr = 0, si = 0;
                    for (int y = 0; y < h; y++)
                        for (int xx = 0; xx < w; xx++) {
                            double ang = -2 * Math.PI * ((double) u * y / h + (double) v * xx / w);
                            double val = x[p * h * w + y * w + xx];
                            sr += val * Math.cos(ang);
                            si += val * Math.sin(ang);
                        }
                    re[p * h * w + u * w + v] = sr * norm;
                    im[p * h * w + u * w + v] = si * norm;
                }
        return new double[][] {re, im};
    }

    /** |F_real - F_fake|^2 per frequency. */
    static double[] distance(double[] fake, double[] real, int planes, int h, int w) {
        double[][] ff = dft2(fake, planes, h, w), fr = dft2(real, planes, h, w);
        double[] d = new double[fake.length];
        for (int i = 0; i < d.length; i++) {
            double a = fr[0][i] - ff[0][i], b = fr[1][i] - ff[1][i];
            d[i] = a * a + b * b;
        }
        return d;
    }

    /** The focal weights of the reference code: |d|^alpha, optional log(1+.), / max per plane, NaN -> 0, clamp [0, 1]. */
    static double[] weights(double[] dist, int planes, int hw, double alpha, boolean log) {
        double[] m = new double[dist.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = Math.pow(Math.sqrt(dist[i]), alpha);
            if (log) m[i] = Math.log(m[i] + 1);
        }
        for (int p = 0; p < planes; p++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < hw; i++) max = Math.max(max, m[p * hw + i]);
            for (int i = 0; i < hw; i++) {
                double v = m[p * hw + i] / max;
                m[p * hw + i] = Double.isNaN(v) ? 0 : Math.min(1, Math.max(0, v));
            }
        }
        return m;
    }

    private static void check(long seed, double alpha, boolean log) {
        Gen g = new Gen(seed);
        int n = g.nextInt(1, 2), c = g.nextInt(1, 3), h = g.nextInt(1, 5), w = g.nextInt(2, 5);
        int planes = n * c, hw = h * w;
        int[] shape = {n, c, h, w};
        Tensor fake = g.leaf(shape, -1, 1), real = g.leaf(shape, -1, 1);
        double[] f0 = new double[planes * hw], r0 = new double[planes * hw];
        float[] ff = fake.toFloatArray(), rf = real.toFloatArray();
        for (int i = 0; i < f0.length; i++) {
            f0[i] = ff[i];
            r0[i] = rf[i];
        }
        // the weights are detached: the reference holds them fixed at the unperturbed inputs
        double[] wFixed = weights(distance(f0, r0, planes, h, w), planes, hw, alpha, log);
        FocalFrequencyLoss ffl = new FocalFrequencyLoss(alpha, log, 1.0);
        OpCheck.of("FFL alpha " + alpha + (log ? " log" : ""), seed).forwardTol(1e-5, 1e-4)
                .run(t -> ffl.apply(t[0], t[1]), r -> {
                    double[] d = distance(r[0].v, r[1].v, planes, h, w);
                    double sum = 0;
                    for (int i = 0; i < d.length; i++) sum += wFixed[i] * d[i];
                    return new Ref(new double[] {sum / d.length});
                }, fake, real);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void matchesTheReferenceWithDetachedWeights(long seed) { check(seed, 1.0, false); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void logMatrixAndOtherAlpha(long seed) { check(seed, 2.0, true); }

    @Test
    void identicalImagesGiveZeroNotNaN() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f}, 1, 2, 2, 2);
            Tensor loss = new FocalFrequencyLoss().apply(x, x);
            assertEquals(0f, loss.item(), 0f);
        }
    }

    @Test
    void lossWeightScales() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 1, 1, 2, 2), b = Tensor.of(new float[] {0, 2, 1, 4}, 1, 1, 2, 2);
            float one = new FocalFrequencyLoss().apply(a, b).item();
            float ten = new FocalFrequencyLoss(1.0, false, 10.0).apply(a, b).item();
            assertTrue(one > 0);
            assertEquals(10 * one, ten, 1e-5f * ten);
        }
    }

    @Test
    void shapesMustMatch() {
        var e = assertThrows(IllegalArgumentException.class, () -> new FocalFrequencyLoss().apply(Tensor.zeros(1, 3, 4, 4), Tensor.zeros(1, 3, 4, 5)));
        assertTrue(e.getMessage().contains("[1, 3, 4, 4]") && e.getMessage().contains("[1, 3, 4, 5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FocalFrequencyLoss(0, false, 1));
    }
}
