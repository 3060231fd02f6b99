package dev.moesr.diffusion.decoder;

import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
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

/** The adaptive frequency filter against a plain double-precision DFT implementation, forward and gradients. */
class AdaptiveFrequencyFilterTest {
    private static final float LAMBDA = 0.01f;

    static Stream<Long> cases() { return Gen.seeds("adaptive frequency filter", 12); }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("cases")
    void matchesDoubleReferenceForwardAndGradient(long seed) {
        Gen g = new Gen(seed);
        int n = g.nextInt(1, 2), blocks = g.nextInt(1, 3), size = g.nextInt(1, 3), factor = g.nextInt(1, 2);
        int h = g.nextInt(1, 4), w = g.nextInt(1, 5);   // odd and even widths, and the size-1 edge cases
        int c = blocks * size, hidden = size * factor;
        // weights well above the soft-shrink threshold, so most of the mask is live and smooth
        Tensor x = g.leaf(new int[] {n, c, h, w}, -1, 1);
        Tensor w1 = g.leaf(new int[] {2, blocks, size, hidden}, -0.9, 0.9);
        Tensor b1 = g.leaf(new int[] {2, blocks, hidden}, -0.3, 0.3);
        Tensor w2 = g.leaf(new int[] {2, blocks, hidden, size}, -0.9, 0.9);
        Tensor b2 = g.leaf(new int[] {2, blocks, size}, -0.3, 0.3);
        OpCheck.of("adaptive frequency filter", seed).run(
                in -> AdaptiveFrequencyFilter.apply(in[0], in[1], in[2], in[3], in[4], blocks, LAMBDA),
                in -> reference(in[0], in[1], in[2], in[3], in[4], blocks),
                x, w1, b1, w2, b2);
    }

    /** y = irfft2(X * M) + x with X = rfft2(x), both orthonormal, by direct sums; M by the complex block MLP. */
    static Ref reference(Ref x, Ref w1, Ref b1, Ref w2, Ref b2, int blocks) {
        int n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], wf = w / 2 + 1;
        int size = c / blocks, hidden = w1.shape[3];
        double norm = 1 / Math.sqrt(h * w);
        Ref out = Ref.zeros(n, c, h, w);
        for (int b = 0; b < n; b++) {
            double[][][] re = new double[c][h][wf], im = new double[c][h][wf];
            for (int ch = 0; ch < c; ch++) {
                for (int u = 0; u < h; u++) {
                    for (int v = 0; v < wf; v++) {
                        for (int m = 0; m < h; m++) {
                            for (int p = 0; p < w; p++) {
                                double angle = -2 * Math.PI * ((double) u * m / h + (double) v * p / w);
                                double val = x.get(b, ch, m, p);
                                re[ch][u][v] += val * Math.cos(angle) * norm;
                                im[ch][u][v] += val * Math.sin(angle) * norm;
                            }
                        }
                    }
                }
            }
            double[][][] yRe = new double[c][h][wf], yIm = new double[c][h][wf];
            for (int k = 0; k < blocks; k++) {
                for (int u = 0; u < h; u++) {
                    for (int v = 0; v < wf; v++) {
                        double[] hRe = new double[hidden], hIm = new double[hidden];
                        for (int o = 0; o < hidden; o++) {
                            double sr = b1.get(0, k, o), si = b1.get(1, k, o);
                            for (int i = 0; i < size; i++) {
                                double zr = re[k * size + i][u][v], zi = im[k * size + i][u][v];
                                double ar = w1.get(0, k, i, o), ai = w1.get(1, k, i, o);
                                sr += zr * ar - zi * ai;
                                si += zr * ai + zi * ar;
                            }
                            hRe[o] = leaky(sr);
                            hIm[o] = leaky(si);
                        }
                        for (int j = 0; j < size; j++) {
                            double sr = b2.get(0, k, j), si = b2.get(1, k, j);
                            for (int o = 0; o < hidden; o++) {
                                double ar = w2.get(0, k, o, j), ai = w2.get(1, k, o, j);
                                sr += hRe[o] * ar - hIm[o] * ai;
                                si += hRe[o] * ai + hIm[o] * ar;
                            }
                            double mr = shrink(sr), mi = shrink(si);
                            int ch = k * size + j;
                            double zr = re[ch][u][v], zi = im[ch][u][v];
                            yRe[ch][u][v] = zr * mr - zi * mi;
                            yIm[ch][u][v] = zr * mi + zi * mr;
                        }
                    }
                }
            }
            // inverse real transform: columns without a mirror image (0, and w/2 for even w) count once
            for (int ch = 0; ch < c; ch++) {
                for (int m = 0; m < h; m++) {
                    for (int p = 0; p < w; p++) {
                        double s = 0;
                        for (int u = 0; u < h; u++) {
                            for (int v = 0; v < wf; v++) {
                                double weight = v == 0 || (w % 2 == 0 && v == w / 2) ? 1 : 2;
                                double angle = 2 * Math.PI * ((double) u * m / h + (double) v * p / w);
                                s += weight * (yRe[ch][u][v] * Math.cos(angle) - yIm[ch][u][v] * Math.sin(angle));
                            }
                        }
                        out.v[out.at(b, ch, m, p)] = s * norm + x.get(b, ch, m, p);
                    }
                }
            }
        }
        return out;
    }

    private static double leaky(double v) { return v > 0 ? v : AdaptiveFrequencyFilter.SLOPE * v; }

    private static double shrink(double v) { return v > LAMBDA ? v - LAMBDA : v < -LAMBDA ? v + LAMBDA : 0; }

    @Test
    void layoutInitialisationAndErrors() {
        try (Scope s = Scope.open()) {
            var f = new AdaptiveFrequencyFilter(256, 8, 1, 0.01f, new Philox(5));
            assertArrayEquals(new int[] {2, 8, 32, 32}, f.stateDict().get("w1").dims());
            assertArrayEquals(new int[] {2, 8, 32}, f.stateDict().get("b2").dims());
            assertEquals(AdaptiveFrequencyFilter.parameterCount(256, 8, 1), f.parameterCount());
            float[] w = f.stateDict().get("w1").toFloatArray();
            double sq = 0;
            for (float v : w) sq += v * v;
            assertEquals(0.02, Math.sqrt(sq / w.length), 1e-3, "complex MLP weights are 0.02 * N(0, 1)");
            // an all-zero mask (weights and biases 0) leaves only the residual
            var zero = new AdaptiveFrequencyFilter(4, 2, 1, 0.01f, new Philox(1));
            for (var p : zero.parameters()) p.assign(Tensor.zeros(p.dims()));
            Tensor x = Tensor.randn(new Philox(2), 1, 4, 3, 5);
            assertArrayEquals(x.toFloatArray(), zero.forward(x).toFloatArray());
            assertThrows(IllegalArgumentException.class, () -> new AdaptiveFrequencyFilter(10, 4, 1, 0.01f, new Philox(1)));
            assertThrows(IllegalArgumentException.class, () -> f.forward(Tensor.zeros(1, 128, 4, 4)));
        }
    }
}
