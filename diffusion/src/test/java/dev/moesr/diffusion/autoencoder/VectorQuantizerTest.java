package dev.moesr.diffusion.autoencoder;

import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The quantiser: nearest codes against a brute-force double search, and its straight-through
 * gradients. The references hold what the stop-gradients hold constant (the codes chosen at the
 * checked point, and z or z_q inside stop_gradient), so their central differences are exactly the
 * gradients the straight-through estimator defines.
 */
class VectorQuantizerTest {
    private static final float BETA = 0.25f;
    private Scope scope;

    @BeforeEach void open() { scope = Scope.open(); }

    @AfterEach void close() { scope.close(); }

    static Stream<Long> cases() { return Gen.seeds("vector quantiser", 10); }

    private record Case(VectorQuantizer q, Tensor z, int[] nearest) {}

    /** A random quantiser and latent, with each position's nearest code found in double precision. */
    private static Case randomCase(Gen g, int maxEmbed) {
        int n = g.nextInt(1, 2), d = g.nextInt(1, 4), h = g.nextInt(1, 3), w = g.nextInt(1, 4), k = g.nextInt(1, maxEmbed);
        var q = new VectorQuantizer(k, d, BETA, new Philox(g.seed));
        q.namedParameters().get("embedding.weight").assign(g.floats(k * d, -1, 1));
        Tensor z = g.leaf(new int[] {n, d, h, w}, -1, 1);
        float[] zv = z.toFloatArray(), e = q.codebook().toFloatArray();
        int[] nearest = new int[n * h * w];
        for (int b = 0; b < n; b++) {
            for (int pos = 0; pos < h * w; pos++) {
                double best = Double.POSITIVE_INFINITY;
                for (int code = 0; code < k; code++) {
                    double dist = 0;
                    for (int c = 0; c < d; c++) {
                        double diff = zv[(b * d + c) * h * w + pos] - e[code * d + c];
                        dist += diff * diff;
                    }
                    if (dist < best) {
                        best = dist;
                        nearest[b * h * w + pos] = code;
                    }
                }
            }
        }
        return new Case(q, z, nearest);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("cases")
    void nearestCodesMatchBruteForce(long seed) {
        Case c = randomCase(new Gen(seed), 40);
        float[] got = c.q.forward(c.z).indices().toFloatArray();
        float[] expected = new float[c.nearest.length];
        for (int i = 0; i < expected.length; i++) expected[i] = c.nearest[i];
        assertArrayEquals(expected, got);
    }

    @Test
    void distancesAreComputedInChunksForLargeCodebooks() {
        // 70000 codes: 59 rows of distances at a time, so 150 vectors take three chunks
        var big = new VectorQuantizer(70_000, 2, BETA, new Philox(8));
        Tensor vectors = Tensor.rand(new Philox(9), 150, 2).mul(0.02f).sub(0.01f);
        float[] got = big.nearest(vectors).toFloatArray();
        float[] e = big.codebook().toFloatArray(), v = vectors.toFloatArray();
        for (int row = 0; row < 150; row++) {
            double best = Double.POSITIVE_INFINITY;
            int arg = -1;
            for (int code = 0; code < 70_000; code++) {
                double dx = v[2 * row] - e[2 * code], dy = v[2 * row + 1] - e[2 * code + 1];
                double dist = dx * dx + dy * dy;
                if (dist < best) {
                    best = dist;
                    arg = code;
                }
            }
            double chosen = Math.pow(v[2 * row] - e[2 * (int) got[row]], 2) + Math.pow(v[2 * row + 1] - e[2 * (int) got[row] + 1], 2);
            // ties within float32 rounding of the distance may pick either code
            assertEquals(best, chosen, 1e-9, "row " + row + ": picked code " + (int) got[row] + ", nearest " + arg);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("cases")
    void straightThroughOutputPassesTheGradientToZ(long seed) {
        Case c = randomCase(new Gen(seed), 12);
        int[] shape = c.z.dims();
        float[] e = c.q.codebook().toFloatArray();
        Ref quantised = codes(c, e);
        double[] z0 = OpCheck.toRef(c.z).v.clone();
        OpCheck.of("quantiser straight-through output", seed).run(
                in -> c.q.forward(in[0]).quantized(),
                // z + (q(z0) - z0): the value of q at the checked point, the gradient of the identity
                in -> {
                    Ref out = Ref.zeros(shape);
                    for (int i = 0; i < out.v.length; i++) out.v[i] = in[0].v[i] + (quantised.v[i] - z0[i]);
                    return out;
                },
                c.z);
        c.q.forward(c.z).quantized().sum().backward();
        assertNull(c.q.codebook().grad(), "the quantised output sends no gradient to the codebook");
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("cases")
    void codebookAndCommitmentLossGradients(long seed) {
        Case c = randomCase(new Gen(seed), 12);
        int[] shape = c.z.dims();
        int n = shape[0], d = shape[1], hw = shape[2] * shape[3];
        double[] z0 = OpCheck.toRef(c.z).v.clone();
        double[] e0 = OpCheck.toRef(c.q.codebook()).v.clone();
        OpCheck.of("quantiser loss", seed).run(
                in -> c.q.forward(in[0]).loss(),
                // mean((sg(z_q) - z)^2) + beta * mean((z_q - sg(z))^2) with the codes fixed at the checked point
                in -> {
                    double commitment = 0, codebook = 0;
                    for (int b = 0; b < n; b++) {
                        for (int pos = 0; pos < hw; pos++) {
                            int code = c.nearest[b * hw + pos];
                            for (int ch = 0; ch < d; ch++) {
                                int zi = (b * d + ch) * hw + pos;
                                commitment += Math.pow(e0[code * d + ch] - in[0].v[zi], 2);
                                codebook += Math.pow(in[1].v[code * d + ch] - z0[zi], 2);
                            }
                        }
                    }
                    int count = n * d * hw;
                    return new Ref(new double[] {commitment / count + BETA * codebook / count});
                },
                c.z, c.q.codebook());
    }

    private static Ref codes(Case c, float[] e) {
        int[] s = c.z.dims();
        int d = s[1], hw = s[2] * s[3];
        Ref out = Ref.zeros(s);
        for (int b = 0; b < s[0]; b++) {
            for (int pos = 0; pos < hw; pos++) {
                for (int ch = 0; ch < d; ch++) out.v[(b * d + ch) * hw + pos] = e[c.nearest[b * hw + pos] * d + ch];
            }
        }
        return out;
    }

    @Test
    void lookupInvertsQuantisationAndBadShapesAreRejected() {
        var q = new VectorQuantizer(16, 3, BETA, new Philox(3));
        Tensor z = Tensor.randn(new Philox(4), 2, 3, 4, 5);
        VectorQuantizer.Result r = q.forward(z);
        assertArrayEquals(new int[] {2, 4, 5}, r.indices().dims());
        assertArrayEquals(r.quantized().toFloatArray(), q.lookup(r.indices()).toFloatArray(), 1e-6f);
        float[] e = q.codebook().toFloatArray();
        for (float v : e) assertEquals(0, v, 1.0 / 16, "codebook starts uniform in +-1/nEmbed");
        assertThrows(IllegalArgumentException.class, () -> q.forward(Tensor.zeros(2, 4, 4, 5)));
        assertThrows(IllegalArgumentException.class, () -> q.nearest(Tensor.zeros(7, 2)));
        assertThrows(IllegalArgumentException.class, () -> q.lookup(Tensor.zeros(3)));
    }
}
