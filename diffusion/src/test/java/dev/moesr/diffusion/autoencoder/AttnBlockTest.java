package dev.moesr.diffusion.autoencoder;

import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

/** The attention core, whole and in query blocks, against a double reference, forward and gradients. */
class AttnBlockTest {
    static Stream<Long> cases() { return Gen.seeds("vq attention", 10); }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("cases")
    void attentionMatchesReferenceWholeAndInBlocks(long seed) {
        Gen g = new Gen(seed);
        int b = g.nextInt(1, 2), c = g.nextInt(1, 4), n = g.nextInt(1, 9);
        // a budget below n * n forces blocks of queries, down to one query per block
        long maxScores = g.nextBoolean() ? Long.MAX_VALUE : g.nextInt(1, n * n);
        var q = g.leaf(new int[] {b, n, c}, -2, 2);
        var k = g.leaf(new int[] {b, c, n}, -2, 2);
        var v = g.leaf(new int[] {b, c, n}, -1, 1);
        OpCheck.of("vq attention (max scores " + maxScores + ")", seed).run(
                in -> AttnBlock.attend(in[0], in[1], in[2], maxScores),
                in -> reference(in[0], in[1], in[2]),
                q, k, v);
    }

    static Ref reference(Ref q, Ref k, Ref v) {
        int b = q.shape[0], n = q.shape[1], c = q.shape[2];
        Ref out = Ref.zeros(b, c, n);
        for (int s = 0; s < b; s++) {
            for (int i = 0; i < n; i++) {
                double[] w = new double[n];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = 0; j < n; j++) {
                    for (int ch = 0; ch < c; ch++) w[j] += q.get(s, i, ch) * k.get(s, ch, j);
                    w[j] /= Math.sqrt(c);
                    max = Math.max(max, w[j]);
                }
                for (int j = 0; j < n; j++) sum += w[j] = Math.exp(w[j] - max);
                for (int ch = 0; ch < c; ch++) {
                    double acc = 0;
                    for (int j = 0; j < n; j++) acc += v.get(s, ch, j) * w[j] / sum;
                    out.v[out.at(s, ch, i)] = acc;
                }
            }
        }
        return out;
    }
}
