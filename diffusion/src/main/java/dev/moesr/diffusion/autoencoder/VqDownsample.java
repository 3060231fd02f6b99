package dev.moesr.diffusion.autoencoder;

import dev.moesr.nn.Layer;
import dev.moesr.nn.layers.Conv2d;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * taming's Downsample with a convolution: zero padding of one column on the right and one row
 * at the bottom, then a 3x3 convolution with stride 2 and no padding (child "conv"). H and W
 * become ceil(H/2) and ceil(W/2) (exactly H/2 and W/2 for even sizes).
 */
public class VqDownsample extends Layer {
    private static final int[] PAD_RIGHT_BOTTOM = {0, 1, 0, 1};
    private final Conv2d conv;

    public VqDownsample(int channels, Philox rng) {
        this.conv = registerModule("conv", new Conv2d(channels, channels, 3, 2, 0, rng));
    }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4) throw new IllegalArgumentException("VqDownsample needs NCHW input, got shape " + x.shape());
        return conv.forward(x.pad(PAD_RIGHT_BOTTOM, 0f));
    }
}
