package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Layer;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.GroupNorm;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * The VQ-GAN self-attention block: one head over all H*W positions, q, k, v and proj_out as 1x1
 * convolutions, scores scaled by C^-1/2; x + proj_out(attention). State: norm, q, k, v, proj_out.
 */
public class AttnBlock extends Layer {
    /** Above this many score elements per batch item the queries are processed in blocks (bounds memory: 64 MiB of scores). */
    static final long MAX_SCORES = 1L << 24;

    public final int channels;
    private final GroupNorm norm;
    private final Conv2d q, k, v, projOut;

    public AttnBlock(int channels, int groups, float eps, Philox rng) {
        this.channels = channels;
        this.norm = registerModule("norm", new GroupNorm(groups, channels, eps, true));
        this.q = registerModule("q", new Conv2d(channels, channels, 1, 1, 0, rng));
        this.k = registerModule("k", new Conv2d(channels, channels, 1, 1, 0, rng));
        this.v = registerModule("v", new Conv2d(channels, channels, 1, 1, 0, rng));
        this.projOut = registerModule("proj_out", new Conv2d(channels, channels, 1, 1, 0, rng));
    }

    public static long parameterCount(int c) { return 2L * c + 4 * VqConfig.conv(c, c, 1); }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != channels) {
            throw new IllegalArgumentException("AttnBlock(" + channels + ") needs NCHW input with " + channels + " channels, got shape " + x.shape());
        }
        int b = x.dim(0), c = channels, hw = x.dim(2) * x.dim(3);
        Tensor h = norm.forward(x);
        Tensor queries = q.forward(h).reshape(b, c, hw).transpose(1, 2);      // [b, hw, c]
        Tensor keys = k.forward(h).reshape(b, c, hw);                          // [b, c, hw]
        Tensor values = v.forward(h).reshape(b, c, hw);                        // [b, c, hw]
        Tensor attended = attend(queries, keys, values, MAX_SCORES);
        return x.add(projOut.forward(attended.reshape(b, c, x.dim(2), x.dim(3))));
    }

    /**
     * softmax(q k / sqrt(C)) applied to v: queries [b, n, C], keys and values [b, C, n]; result
     * [b, C, n]. Softmax rows are independent, so when n * n exceeds {@code maxScores} the scores
     * are made for one block of queries at a time.
     */
    static Tensor attend(Tensor queries, Tensor keys, Tensor values, long maxScores) {
        int c = keys.dim(1), n = keys.dim(2);
        float scale = (float) (1.0 / Math.sqrt(c));
        int chunk = (int) Math.max(1, Math.min(n, maxScores / n));
        Tensor[] parts = new Tensor[(n + chunk - 1) / chunk];
        for (int i = 0; i < parts.length; i++) {
            Tensor qi = parts.length == 1 ? queries : queries.slice(1, i * chunk, Math.min(n, (i + 1) * chunk));
            Tensor weights = qi.matmul(keys).mul(scale).softmax(2);           // [b, rows, n]: each query's weights over all keys
            parts[i] = values.matmul(weights.transpose(1, 2));                 // [b, C, rows]
        }
        return parts.length == 1 ? parts[0] : Tensor.cat(2, parts);
    }

    @Override public String toString() { return "AttnBlock(" + channels + ")"; }
}
