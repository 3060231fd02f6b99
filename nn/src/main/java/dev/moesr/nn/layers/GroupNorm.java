package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Tensor;

/** Group normalisation of NC... input (PyTorch's nn.GroupNorm); affine weight 1 and bias 0 at start. */
public class GroupNorm extends Layer {
    public final int groups, channels;
    public final float eps;
    private final Parameter weight;
    private final Parameter bias;

    public GroupNorm(int groups, int channels) { this(groups, channels, 1e-5f, true); }

    public GroupNorm(int groups, int channels, float eps, boolean affine) {
        if (groups <= 0 || channels <= 0 || channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm needs channels divisible by groups, got " + channels + " channels in " + groups + " groups");
        }
        if (!(eps > 0)) throw new IllegalArgumentException("GroupNorm eps must be > 0, got " + eps);
        this.groups = groups;
        this.channels = channels;
        this.eps = eps;
        this.weight = affine ? registerParameter("weight", Tensor.ones(channels)) : null;
        this.bias = affine ? registerParameter("bias", Tensor.zeros(channels)) : null;
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    @Override public Tensor forward(Tensor x) {
        requireInput(x);
        return x.groupNorm(groups, weight == null ? null : weight.tensor(), bias == null ? null : bias.tensor(), eps);
    }

    /**
     * {@code forward(x).silu()} in one fused kernel: no normalised intermediate is kept, and the
     * backward recomputes it from x. The pattern of every diffusion ResBlock.
     */
    public Tensor forwardSilu(Tensor x) {
        requireInput(x);
        return x.groupNormSilu(groups, weight == null ? null : weight.tensor(), bias == null ? null : bias.tensor(), eps);
    }

    private void requireInput(Tensor x) {
        if (x.rank() < 2 || x.dim(1) != channels) {
            throw new IllegalArgumentException("GroupNorm(" + groups + ", " + channels + ") needs N, C, ... input with C = " + channels + ", got shape " + x.shape());
        }
    }

    @Override public String toString() { return "GroupNorm(" + groups + ", " + channels + ", eps " + eps + ")"; }
}
