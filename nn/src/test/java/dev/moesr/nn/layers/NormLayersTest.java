package dev.moesr.nn.layers;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NormLayersTest {

    static Stream<Long> cases() { return Gen.seeds("norm-layers", 15); }

    /** GroupNorm in double: statistics over (C/G, spatial) per sample and group, biased variance. */
    static Ref groupNormRef(Ref x, Ref w, Ref b, int groups, double eps) {
        int n = x.shape[0], c = x.shape[1], spatial = x.numel() / (n * c), cpg = c / groups;
        Ref y = Ref.zeros(x.shape);
        for (int s = 0; s < n; s++)
            for (int g = 0; g < groups; g++) {
                int from = (s * c + g * cpg) * spatial, count = cpg * spatial;
                double mean = 0, var = 0;
                for (int i = 0; i < count; i++) mean += x.v[from + i];
                mean /= count;
                for (int i = 0; i < count; i++) var += (x.v[from + i] - mean) * (x.v[from + i] - mean);
                var /= count;
                for (int i = 0; i < count; i++) {
                    int ch = g * cpg + i / spatial;
                    y.v[from + i] = (x.v[from + i] - mean) / Math.sqrt(var + eps) * w.v[ch] + b.v[ch];
                }
            }
        return y;
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void groupNorm(long seed) {
        Gen g = new Gen(seed);
        int groups = g.nextInt(1, 3), c = groups * g.nextInt(1, 3);
        GroupNorm gn = new GroupNorm(groups, c, 1e-5f, true);
        LinearConvTest.randomise(gn.weight(), g);
        LinearConvTest.randomise(gn.bias(), g);
        Tensor x = g.leaf(new int[] {g.nextInt(1, 2), c, g.nextInt(1, 4), g.nextInt(2, 4)}, -2, 2);
        OpCheck.of("GroupNorm", seed).gradTol(2e-3, 2e-2)
                .run(t -> gn.forward(t[0]), r -> groupNormRef(r[0], r[1], r[2], groups, 1e-5), x, gn.weight().tensor(), gn.bias().tensor());
        gn.release();
    }

    /** LayerNorm over the last {@code k} dimensions, in double. */
    static Ref layerNormRef(Ref x, Ref w, Ref b, int inner, double eps) {
        Ref y = Ref.zeros(x.shape);
        for (int from = 0; from < x.numel(); from += inner) {
            double mean = 0, var = 0;
            for (int i = 0; i < inner; i++) mean += x.v[from + i];
            mean /= inner;
            for (int i = 0; i < inner; i++) var += (x.v[from + i] - mean) * (x.v[from + i] - mean);
            var /= inner;
            for (int i = 0; i < inner; i++) y.v[from + i] = (x.v[from + i] - mean) / Math.sqrt(var + eps) * w.v[i] + b.v[i];
        }
        return y;
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void layerNorm(long seed) {
        Gen g = new Gen(seed);
        int[] norm = g.nextBoolean() ? new int[] {g.nextInt(2, 5)} : new int[] {g.nextInt(1, 3), g.nextInt(2, 3)};
        LayerNorm ln = new LayerNorm(norm, 1e-5f, true);
        LinearConvTest.randomise(ln.weight(), g);
        LinearConvTest.randomise(ln.bias(), g);
        int lead = g.nextInt(1, 3);
        int[] xs = new int[1 + norm.length];
        xs[0] = lead;
        System.arraycopy(norm, 0, xs, 1, norm.length);
        int inner = Gen.numel(norm);
        OpCheck.of("LayerNorm", seed).gradTol(2e-3, 2e-2)
                .run(t -> ln.forward(t[0]), r -> layerNormRef(r[0], r[1], r[2], inner, 1e-5), g.leaf(xs, -2, 2), ln.weight().tensor(), ln.bias().tensor());
        ln.release();
    }

    @Test
    void layerNormChecksTheTrailingShape() {
        LayerNorm ln = new LayerNorm(4);
        var e = assertThrows(IllegalArgumentException.class, () -> ln.forward(Tensor.zeros(2, 3)));
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
        ln.release();
    }

    @Test
    void groupNormNeedsDivisibleChannels() {
        var e = assertThrows(IllegalArgumentException.class, () -> new GroupNorm(32, 48));
        assertTrue(e.getMessage().contains("48") && e.getMessage().contains("32"), e.getMessage());
    }

    /** Per-channel statistics of NCHW data: mean and biased variance. */
    static double[][] channelStats(float[] x, int n, int c, int hw) {
        double[] mean = new double[c], var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            for (int s = 0; s < n; s++) for (int i = 0; i < hw; i++) mean[ch] += x[(s * c + ch) * hw + i];
            mean[ch] /= n * hw;
            for (int s = 0; s < n; s++) for (int i = 0; i < hw; i++) {
                double d = x[(s * c + ch) * hw + i] - mean[ch];
                var[ch] += d * d;
            }
            var[ch] /= n * hw;
        }
        return new double[][] {mean, var};
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void batchNormTrainsOnBatchStatisticsAndTracksRunningOnes(long seed) {
        Gen g = new Gen(seed);
        int n = g.nextInt(1, 3), c = g.nextInt(1, 3), h = g.nextInt(1, 3), w = g.nextInt(2, 3);
        BatchNorm2d bn = new BatchNorm2d(c, 1e-5f, 0.1f, true);
        LinearConvTest.randomise(bn.weight(), g);
        LinearConvTest.randomise(bn.bias(), g);
        float[] xv = g.floats(n * c * h * w, -2, 2);
        float[] wv = bn.weight().tensor().toFloatArray(), bv = bn.bias().tensor().toFloatArray();
        int hw = h * w, count = n * hw;
        double[][] st = channelStats(xv, n, c, hw);
        Tensor y = bn.forward(Tensor.of(xv, n, c, h, w));
        float[] yv = y.toFloatArray();
        for (int i = 0; i < yv.length; i++) {
            int ch = (i / hw) % c;
            double expected = (xv[i] - st[0][ch]) / Math.sqrt(st[1][ch] + 1e-5) * wv[ch] + bv[ch];
            assertEquals(expected, yv[i], 1e-4 + 1e-4 * Math.abs(expected), "output " + i);
        }
        float[] rm = bn.runningMean().tensor().toFloatArray(), rv = bn.runningVar().tensor().toFloatArray();
        for (int ch = 0; ch < c; ch++) {
            assertEquals(0.1 * st[0][ch], rm[ch], 1e-5, "running mean " + ch);
            assertEquals(0.9 + 0.1 * st[1][ch] * count / (count - 1), rv[ch], 1e-5, "running var (unbiased) " + ch);
        }
        assertEquals(1f, bn.numBatchesTracked().tensor().item());

        // evaluation uses the running statistics and changes nothing
        bn.eval();
        float[] ye = bn.forward(Tensor.of(xv, n, c, h, w)).toFloatArray();
        for (int i = 0; i < ye.length; i++) {
            int ch = (i / hw) % c;
            double expected = (xv[i] - rm[ch]) / Math.sqrt(rv[ch] + 1e-5) * wv[ch] + bv[ch];
            assertEquals(expected, ye[i], 1e-4 + 1e-4 * Math.abs(expected), "eval output " + i);
        }
        assertArrayEquals(rm, bn.runningMean().tensor().toFloatArray());
        assertEquals(1f, bn.numBatchesTracked().tensor().item());
        assertEquals(java.util.List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
                new java.util.ArrayList<>(bn.stateDict().keySet()));
        bn.release();
    }

    @Test
    void batchNormRefusesOneValuePerChannelInTraining() {
        BatchNorm2d bn = new BatchNorm2d(3);
        var e = assertThrows(IllegalArgumentException.class, () -> bn.forward(Tensor.zeros(1, 3, 1, 1)));
        assertTrue(e.getMessage().contains("[1, 3, 1, 1]"), e.getMessage());
        bn.release();
    }
}
