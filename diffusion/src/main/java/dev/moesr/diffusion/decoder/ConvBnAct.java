package dev.moesr.diffusion.decoder;

import dev.moesr.nn.Layer;
import dev.moesr.nn.layers.BatchNorm2d;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * The ConvLayer of the AFFNet code: a convolution without bias, BatchNorm, and optionally
 * LeakyReLU 0.1. State under {@code block.conv} and {@code block.norm} (the released model uses
 * SyncBatchNorm, which has the same state as BatchNorm2d).
 */
public class ConvBnAct extends Layer {
    /** The inner Sequential-like holder, so the names come out as block.conv and block.norm. */
    private static final class Block extends Layer {
        final Conv2d conv;
        final BatchNorm2d norm;
        final boolean activation;

        Block(Conv2d conv, BatchNorm2d norm, boolean activation) {
            this.conv = registerModule("conv", conv);
            this.norm = registerModule("norm", norm);
            this.activation = activation;
        }

        @Override public Tensor forward(Tensor x) {
            Tensor y = norm.isTraining() ? norm.forward(conv.forward(x)) : foldedConv(x);
            return activation ? y.leakyRelu(AdaptiveFrequencyFilter.SLOPE) : y;
        }

        /**
         * In evaluation the BatchNorm is a fixed per-channel affine map, so it folds into the
         * convolution: w' = w * s and b' = beta - mean * s with s = gamma / sqrt(var + eps). One
         * pass over the activations instead of three, and no full-size temporaries for the norm.
         */
        private Tensor foldedConv(Tensor x) {
            Tensor scale = norm.runningVar().tensor().add(norm.eps).rsqrt();
            if (norm.weight() != null) scale = scale.mul(norm.weight().tensor());
            Tensor shift = norm.runningMean().tensor().mul(scale).neg();
            if (norm.bias() != null) shift = shift.add(norm.bias().tensor());
            Tensor w = conv.weight().tensor().mul(scale.reshape(conv.outChannels, 1, 1, 1));
            return x.conv2d(w, shift, conv.stride, conv.padding, conv.dilation, conv.groups);
        }
    }

    public final int inChannels, outChannels, kernel, groups;
    private final Block block;

    public ConvBnAct(int inChannels, int outChannels, int kernel, int groups, boolean activation, Philox rng) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.groups = groups;
        this.block = registerModule("block", new Block(new Conv2d(inChannels, outChannels, kernel, 1, kernel / 2, 1, groups, false, rng),
                new BatchNorm2d(outChannels), activation));
    }

    /** Trainable parameters: the convolution weight and the BatchNorm weight and bias. */
    public static long parameterCount(int in, int out, int kernel, int groups) {
        return (long) out * (in / groups) * kernel * kernel + 2L * out;
    }

    @Override public Tensor forward(Tensor x) { return block.forward(x); }
}
