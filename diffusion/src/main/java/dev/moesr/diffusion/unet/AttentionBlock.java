package dev.moesr.diffusion.unet;

import dev.moesr.nn.Attention;
import dev.moesr.nn.Layer;
import dev.moesr.nn.layers.GroupNorm;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LDM's AttentionBlock with the legacy head order (QKVAttentionLegacy): self-attention over the
 * H*W positions, no feed-forward part.
 * <pre>
 *   qkv = qkv(norm(x))                (B, 3C, L), a 1x1 conv1d; weight [3C, C, 1]
 *   per head h (ch = C / heads):      rows [3 ch h, 3 ch (h+1)) of qkv hold q, k, v of that head, in that order
 *   a   = v softmax_s(q^T k / sqrt(ch))^T
 *   y   = x + proj_out(a)             proj_out zero at start
 * </pre>
 */
public final class AttentionBlock extends Layer {
    public final int channels, heads;
    private final GroupNorm norm;
    private final PointwiseConv1d qkv;
    private final PointwiseConv1d projOut;

    public AttentionBlock(int channels, int heads, Philox rng) {
        if (heads <= 0 || channels % heads != 0) throw new IllegalArgumentException("attention over " + channels + " channels cannot use " + heads + " heads");
        this.channels = channels;
        this.heads = heads;
        norm = registerModule("norm", new GroupNorm(UNetConfig.NORM_GROUPS, channels));
        qkv = registerModule("qkv", new PointwiseConv1d(channels, 3 * channels, rng));
        projOut = registerModule("proj_out", new PointwiseConv1d(channels, channels, rng));
        projOut.zero();
    }

    /** {@code x} is (B, C, H, W); returns the same shape. */
    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != channels) {
            throw new IllegalArgumentException("AttentionBlock(" + channels + ") needs (B, " + channels + ", H, W) input, got " + x.shape());
        }
        int b = x.dim(0), len = x.dim(2) * x.dim(3), ch = channels / heads;
        Tensor flat = norm.forward(x).reshape(b, channels, len);
        Tensor perHead = qkv.forward(flat).reshape(b * heads, 3 * ch, len);
        // softmax(q^T k / sqrt(ch)); LDM scales q and k by ch^-1/4 each, the same up to rounding
        Tensor qt = perHead.slice(1, 0, ch).transpose(1, 2);              // (B*heads, L, ch)
        Tensor k = perHead.slice(1, ch, 2 * ch);
        Tensor v = perHead.slice(1, 2 * ch, 3 * ch);
        Tensor a = Attention.scaledDotProduct(qt, k, v, Attention.DEFAULT_MAX_SCORES).reshape(b, channels, len);
        return x.add(projOut.forward(a).reshape(x.dims()));
    }

    /** The state-dict names and shapes of an attention block over {@code c} channels, in order. */
    static Map<String, int[]> stateShapes(int c) {
        Map<String, int[]> m = new LinkedHashMap<>();
        UNetLayout.put(m, "norm", UNetLayout.norm(c));
        UNetLayout.put(m, "qkv", UNetLayout.conv1d(c, 3 * c));
        UNetLayout.put(m, "proj_out", UNetLayout.conv1d(c, c));
        return m;
    }

    @Override public String toString() { return "AttentionBlock(" + channels + ", " + heads + " heads)"; }
}
