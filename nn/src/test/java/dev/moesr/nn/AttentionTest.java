package dev.moesr.nn;

import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backends;
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

/** Scaled dot-product attention, whole and in query blocks, against a double reference, forward and gradients. */
class AttentionTest {
    static Stream<Long> cases() { return Gen.seeds("attention", 12); }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("cases")
    void attentionMatchesReferenceWholeAndInBlocks(long seed) {
        Gen g = new Gen(seed);
        int b = g.nextInt(1, 2), c = g.nextInt(1, 4), cv = g.nextInt(1, 4), n = g.nextInt(1, 9), m = g.nextInt(1, 9);
        // a budget below b * n * m forces blocks of queries, down to one query per block
        long maxScores = g.nextBoolean() ? Long.MAX_VALUE : g.nextInt(1, b * n * m);
        var q = g.leaf(new int[] {b, n, c}, -2, 2);
        var k = g.leaf(new int[] {b, c, m}, -2, 2);
        var v = g.leaf(new int[] {b, cv, m}, -1, 1);
        OpCheck.of("attention (max scores " + maxScores + ")", seed).run(
                in -> Attention.scaledDotProduct(in[0], in[1], in[2], maxScores),
                in -> reference(in[0], in[1], in[2]),
                q, k, v);
    }

    /** 50 queries and 40 keys of 3 channels, values of 5, batch 2. */
    static Tensor[] queriesKeysValues(long seed) {
        Gen g = new Gen(seed);
        return new Tensor[] {Tensor.of(g.floats(2 * 50 * 3, -2, 2), 2, 50, 3), Tensor.of(g.floats(2 * 3 * 40, -2, 2), 2, 3, 40),
                Tensor.of(g.floats(2 * 5 * 40, -1, 1), 2, 5, 40)};
    }

    @Test
    @SuppressWarnings("try")
    void inferenceInBlocksFreesEachBlockAndGivesTheWholeResult() {
        Tensor[] qkv = queriesKeysValues(7);
        Tensor q = qkv[0], k = qkv[1], v = qkv[2];
        float[] whole = Attention.scaledDotProduct(q, k, v, Long.MAX_VALUE).toFloatArray();
        try (GradMode off = GradMode.off(); Scope s = Scope.open()) {
            long before = Backends.cpu().bytesInUse();
            Tensor blocked = Attention.scaledDotProduct(q, k, v, 2 * 40 * 7);   // 7 queries per block, 8 blocks
            long held = Backends.cpu().bytesInUse() - before;
            assertArrayEquals(new int[] {2, 5, 50}, blocked.dims());
            assertArrayEquals(whole, blocked.toFloatArray());
            // what stays: the block results and their concatenation (2 x 4000 bytes), less than one whole score matrix (16000)
            long scores = 2L * 50 * 40 * Float.BYTES;
            assertTrue(held < scores, "held " + held + " bytes after the call, a whole score matrix is " + scores);
        }
    }

    @Test
    @SuppressWarnings("try")
    void frozenAttentionWithGradModeOnAlsoFreesEachBlock() {
        // stage 2 runs the frozen decoder's middle attention with grad mode on: no input needs a gradient
        Tensor[] qkv = queriesKeysValues(8);
        Tensor q = qkv[0], k = qkv[1], v = qkv[2];
        long scores = 2L * 50 * 40 * Float.BYTES;
        try (Scope s = Scope.open()) {
            long before = Backends.cpu().bytesInUse();
            Tensor blocked = Attention.scaledDotProduct(q, k, v, 2 * 40 * 7);
            long held = Backends.cpu().bytesInUse() - before;
            assertTrue(!blocked.needsGrad() && held < scores, "held " + held + " bytes, a whole score matrix is " + scores);
        }
        q.requiresGrad(true);   // now a graph runs through: every block's scores and weights stay for backward
        try (Scope s = Scope.open()) {
            long before = Backends.cpu().bytesInUse();
            Tensor blocked = Attention.scaledDotProduct(q, k, v, 2 * 40 * 7);
            long held = Backends.cpu().bytesInUse() - before;
            assertTrue(blocked.needsGrad() && held >= 2 * scores, "held " + held + " bytes, scores and weights are " + 2 * scores);
        }
    }

    @Test
    void mismatchedShapesAreRejected() {
        Tensor q = Tensor.zeros(1, 4, 3), k = Tensor.zeros(1, 2, 5), v = Tensor.zeros(1, 2, 5);
        var e = assertThrows(IllegalArgumentException.class, () -> Attention.scaledDotProduct(q, k, v, 100));
        assertTrue(e.getMessage().contains("queries [b, n, C]"), e.getMessage());
    }

    static Ref reference(Ref q, Ref k, Ref v) {
        int b = q.shape[0], n = q.shape[1], c = q.shape[2], m = k.shape[2], cv = v.shape[1];
        Ref out = Ref.zeros(b, cv, n);
        for (int s = 0; s < b; s++) {
            for (int i = 0; i < n; i++) {
                double[] w = new double[m];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < m; j++) {
                    for (int ch = 0; ch < c; ch++) w[j] += q.get(s, i, ch) * k.get(s, ch, j);
                    w[j] /= Math.sqrt(c);
                    max = Math.max(max, w[j]);
                }
                for (int j = 0; j < m; j++) sum += w[j] = Math.exp(w[j] - max);
                for (int ch = 0; ch < cv; ch++) {
                    double acc = 0;
                    for (int j = 0; j < m; j++) acc += v.get(s, ch, j) * w[j] / sum;
                    out.v[out.at(s, ch, i)] = acc;
                }
            }
        }
        return out;
    }
}
