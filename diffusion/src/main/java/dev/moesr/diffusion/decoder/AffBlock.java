package dev.moesr.diffusion.decoder;

import dev.moesr.nn.Layer;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.nn.layers.DropPath;
import dev.moesr.nn.layers.GroupNorm;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * An AFF block as the released refinement network uses it (AFFBlock with double_skip):
 * <pre>
 *   h = mlp(norm1(x)) + up_dim(x)           inverted residual, plus a 1x1 projection of the input
 *   y = drop_path(filter(norm2(h))) + h     adaptive frequency filter (which adds its own input)
 * </pre>
 * norm1 and norm2 are GroupNorm (eps 1e-5); the filter works on the output width. Drop path
 * (stochastic depth, 0.1 in the released code) only acts in training. State: norm1, filter,
 * norm2, up_dim, mlp.
 */
public class AffBlock extends Layer {
    public static final int EXPAND_RATIO = 4;

    public final int inChannels, outChannels;
    private final GroupNorm norm1, norm2;
    private final AdaptiveFrequencyFilter filter;
    private final DropPath dropPath;
    private final Conv2d upDim;
    private final InvertedResidual mlp;

    public AffBlock(int inChannels, int outChannels, FrequencyDecoderConfig config, Philox rng) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.norm1 = registerModule("norm1", new GroupNorm(config.affGroups(), inChannels));
        this.filter = registerModule("filter", new AdaptiveFrequencyFilter(outChannels, config.filterBlocks(), config.filterHiddenFactor(),
                config.filterLambda(), rng));
        this.dropPath = registerModule("drop_path", new DropPath(config.affDropPath(), rng));
        this.norm2 = registerModule("norm2", new GroupNorm(config.affGroups(), outChannels));
        this.upDim = registerModule("up_dim", new Conv2d(inChannels, outChannels, 1, 1, 0, rng));
        this.mlp = registerModule("mlp", new InvertedResidual(inChannels, outChannels, EXPAND_RATIO, rng));
    }

    public static long parameterCount(int in, int out, FrequencyDecoderConfig config) {
        return 2L * in + AdaptiveFrequencyFilter.parameterCount(out, config.filterBlocks(), config.filterHiddenFactor()) + 2L * out
                + (long) in * out + out + InvertedResidual.parameterCount(in, out, EXPAND_RATIO);
    }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != inChannels) {
            throw new IllegalArgumentException("AffBlock(" + inChannels + " -> " + outChannels + ") needs NCHW input with " + inChannels
                    + " channels, got shape " + x.shape());
        }
        // at inference every intermediate is freed as soon as it is used (full-resolution blocks are the decoder's memory peak)
        Tensor normed = block(() -> norm1.forward(x));
        Tensor mixed = block(() -> mlp.forward(normed));
        done(normed, x);
        Tensor h = block(() -> mixed.add(upDim.forward(x)));
        done(mixed, x);
        Tensor filtered = block(() -> filter.forward(norm2.forward(h)));
        Tensor out = block(() -> dropPath.forward(filtered).add(h));
        done(filtered, x);
        done(h, x);
        return out;
    }

    @Override public String toString() { return "AffBlock(" + inChannels + " -> " + outChannels + ")"; }
}
