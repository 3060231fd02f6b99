package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Tensor;

/** [N, C*r*r, H, W] to [N, C, H*r, W*r] (PyTorch's nn.PixelShuffle). */
public class PixelShuffle extends Layer {
    public final int factor;

    public PixelShuffle(int factor) {
        if (factor <= 0) throw new IllegalArgumentException("pixel-shuffle factor must be positive, got " + factor);
        this.factor = factor;
    }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) % (factor * factor) != 0) {
            throw new IllegalArgumentException("PixelShuffle(" + factor + ") needs NCHW input with channels divisible by " + factor * factor + ", got shape " + x.shape());
        }
        return x.pixelShuffle(factor);
    }

    @Override public String toString() { return "PixelShuffle(" + factor + ")"; }
}
