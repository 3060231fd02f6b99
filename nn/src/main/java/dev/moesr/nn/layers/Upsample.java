package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * Nearest-neighbour upsampling of NCHW input by an integer factor, optionally followed by a 3x3
 * convolution (child "conv"), as the LDM and taming Upsample blocks.
 */
public class Upsample extends Layer {
    public final int scale;
    private final Conv2d conv;

    /** Plain nearest upsampling (PyTorch's nn.Upsample(scale_factor, mode="nearest")). */
    public Upsample(int scale) {
        if (scale <= 0) throw new IllegalArgumentException("upsampling scale must be positive, got " + scale);
        this.scale = scale;
        this.conv = null;
    }

    /** Doubling followed by Conv2d(channels, outChannels, 3, padding 1), child "conv". */
    public Upsample(int channels, int outChannels, Philox rng) {
        this.scale = 2;
        this.conv = registerModule("conv", new Conv2d(channels, outChannels, 3, 1, 1, rng));
    }

    /** The convolution, or null. */
    public Conv2d conv() { return conv; }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4) throw new IllegalArgumentException("Upsample needs NCHW input, got shape " + x.shape());
        Tensor up = scale == 1 ? x : x.upsampleNearest(scale);
        return conv == null ? up : conv.forward(up);
    }

    @Override public String toString() { return "Upsample(x" + scale + (conv == null ? ")" : ", " + conv + ")"); }
}
