package dev.moesr.nn;

import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;

/**
 * Scaled dot-product attention in the channels-first layouts of the VQ-GAN and LDM attention
 * blocks, with a bound on the memory of the score matrix.
 */
public final class Attention {
    /** The default bound: 2^24 score elements (64 MiB in float32) per block of queries. */
    public static final long DEFAULT_MAX_SCORES = 1L << 24;

    private Attention() {}

    /**
     * softmax(q k / sqrt(C)) applied to v, for queries [b, n, C], keys [b, C, m] and values
     * [b, Cv, m]; the result is [b, Cv, n]. Softmax rows are independent, so when b * n * m
     * exceeds {@code maxScores} the scores are made for one block of queries at a time; without
     * a graph (inference, or no input needs a gradient) each block's scores are freed before the next block's are made, so a
     * 128x128 attention map (16384 positions, 1 GiB of scores at once) needs 64 MiB.
     */
    @SuppressWarnings("try")
    public static Tensor scaledDotProduct(Tensor queries, Tensor keys, Tensor values, long maxScores) {
        int b = queries.dim(0), n = queries.dim(1), c = keys.dim(1), m = keys.dim(2);
        if (queries.dim(2) != c || keys.dim(0) != b || values.dim(0) != b || values.dim(2) != m) {
            throw new IllegalArgumentException("attention needs queries [b, n, C], keys [b, C, m], values [b, Cv, m]; got "
                    + queries.shape() + ", " + keys.shape() + ", " + values.shape());
        }
        // the scale goes on the queries (n x C values), not on the scores (n x m): one pass less over the largest tensor
        Tensor scaled = queries.mul((float) (1.0 / Math.sqrt(c)));
        long perQuery = (long) b * Math.max(1, m);
        int chunk = (int) Math.max(1, Math.min(n, maxScores / perQuery));
        int blocks = Math.max(1, (n + chunk - 1) / chunk);
        Tensor[] parts = new Tensor[blocks];
        // a frozen attention (stage 2's decoder middle block) frees each block's scores as inference does
        boolean recording = GradMode.isEnabled() && (queries.needsGrad() || keys.needsGrad() || values.needsGrad());
        for (int i = 0; i < blocks; i++) {
            Tensor qi = blocks == 1 ? scaled : scaled.slice(1, i * chunk, Math.min(n, (i + 1) * chunk));
            if (recording) {
                parts[i] = attendBlock(qi, keys, values);           // the temporaries live until backward
            } else {
                try (Scope s = Scope.open()) {
                    parts[i] = s.keep(attendBlock(qi, keys, values));
                }
            }
        }
        return blocks == 1 ? parts[0] : Tensor.cat(2, parts);
    }

    private static Tensor attendBlock(Tensor scaledQueries, Tensor keys, Tensor values) {
        Tensor weights = scaledQueries.matmul(keys).softmax(2);      // [b, rows, m]: each query's weights over all keys
        return values.matmulTransposed(weights);                     // [b, Cv, rows], no transposed copy of the weights
    }
}
