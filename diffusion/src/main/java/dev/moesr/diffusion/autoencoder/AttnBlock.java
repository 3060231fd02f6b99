package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Attention;
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
        Tensor attended = Attention.scaledDotProduct(queries, keys, values, Attention.DEFAULT_MAX_SCORES);
        return x.add(projOut.forward(attended.reshape(b, c, x.dim(2), x.dim(3))));
    }

    @Override public String toString() { return "AttnBlock(" + channels + ")"; }
}
