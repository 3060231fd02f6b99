package dev.moesr.diffusion.unet;

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

/** The legacy-order attention block against plain double loops: forward, and gradients of the input and every parameter. */
@SuppressWarnings("try")   // scopes in tests only bound a region
class AttentionBlockTest {

    static Stream<Long> seeds() { return Gen.seeds("attention block", 8); }

    /**
     * x (B, C, H, W); GroupNorm32; qkv = W x + b; head h owns rows [3 ch h, 3 ch (h + 1)) as q, k, v;
     * a = v softmax(q^T k / sqrt(ch))^T; y = x + P a + p.
     */
    static Ref reference(int heads, Ref x, Ref gnW, Ref gnB, Ref qkvW, Ref qkvB, Ref projW, Ref projB) {
        int b = x.shape[0], c = x.shape[1], len = x.shape[2] * x.shape[3], ch = c / heads;
        double[] n = Reference.groupNorm(x.v, b, c, len, 32, gnW.v, gnB.v, 1e-5);
        double[] out = x.v.clone();
        for (int s = 0; s < b; s++) {
            double[][] qkv = new double[3 * c][len];
            for (int o = 0; o < 3 * c; o++) {
                for (int l = 0; l < len; l++) {
                    double acc = qkvB.v[o];
                    for (int i = 0; i < c; i++) acc += qkvW.v[o * c + i] * n[(s * c + i) * len + l];
                    qkv[o][l] = acc;
                }
            }
            double[][] a = new double[c][len];
            for (int h = 0; h < heads; h++) {
                int q0 = 3 * ch * h, k0 = q0 + ch, v0 = q0 + 2 * ch;
                for (int t = 0; t < len; t++) {
                    double[] w = new double[len];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u < len; u++) {
                        double dot = 0;
                        for (int i = 0; i < ch; i++) dot += qkv[q0 + i][t] * qkv[k0 + i][u];
                        w[u] = dot / Math.sqrt(ch);
                        max = Math.max(max, w[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u < len; u++) sum += w[u] = Math.exp(w[u] - max);
                    for (int i = 0; i < ch; i++) {
                        double acc = 0;
                        for (int u = 0; u < len; u++) acc += w[u] / sum * qkv[v0 + i][u];
                        a[h * ch + i][t] = acc;
                    }
                }
            }
            for (int o = 0; o < c; o++) {
                for (int t = 0; t < len; t++) {
                    double acc = projB.v[o];
                    for (int i = 0; i < c; i++) acc += projW.v[o * c + i] * a[i][t];
                    out[(s * c + o) * len + t] += acc;
                }
            }
        }
        return new Ref(out, x.shape);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void matchesTheReferenceWithGradients(long seed) {
        Gen g = new Gen(seed);
        int c = g.pick(new Integer[] {32, 64}), heads = c == 32 ? g.nextInt(1, 2) : g.pick(new Integer[] {1, 2, 4});
        int b = g.nextInt(1, 2), h = g.nextInt(1, 4), w = g.nextInt(2, 4);   // at least two positions to attend over
        try (Scope s = Scope.open()) {
            AttentionBlock block = new AttentionBlock(c, heads, new Philox(seed));
            Reference.randomise(block, g);
            var p = block.namedParameters();
            Tensor x = g.leaf(new int[] {b, c, h, w}, -2, 2);
            OpCheck.of("attention block B" + b + " C" + c + " heads " + heads + " " + h + "x" + w, seed)
                    .run(in -> block.forward(in[0]),
                            r -> reference(heads, r[0], r[1], r[2], r[3], r[4], r[5], r[6]),
                            x, p.get("norm.weight").tensor(), p.get("norm.bias").tensor(), p.get("qkv.weight").tensor(),
                            p.get("qkv.bias").tensor(), p.get("proj_out.weight").tensor(), p.get("proj_out.bias").tensor());
            block.release();
        }
    }

    @Test
    void startsAsTheIdentityAndNamesItsStateAsLdm() {
        try (Scope s = Scope.open()) {
            AttentionBlock block = new AttentionBlock(64, 2, new Philox(5));
            assertEquals(java.util.List.of("norm.weight", "norm.bias", "qkv.weight", "qkv.bias", "proj_out.weight", "proj_out.bias"),
                    new java.util.ArrayList<>(block.stateDict().keySet()));
            assertArrayEquals(new int[] {192, 64, 1}, block.stateDict().get("qkv.weight").dims());
            Tensor x = Tensor.randn(new Philox(6), 2, 64, 3, 5);
            assertArrayEquals(x.toFloatArray(), block.forward(x).toFloatArray(), "proj_out starts at zero");
            assertThrows(IllegalArgumentException.class, () -> block.forward(Tensor.zeros(2, 32, 3, 5)));
            assertThrows(IllegalArgumentException.class, () -> new AttentionBlock(64, 3, new Philox(5)));
        }
    }
}
