package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Tensor;

/** [N, C, H*r, W*r] to [N, C*r*r, H, W] (PyTorch's nn.PixelUnshuffle). */
public class PixelUnshuffle extends Layer {
    public final int factor;

    public PixelUnshuffle(int factor) {
        if (factor <= 0) throw new IllegalArgumentException("pixel-unshuffle factor must be positive, got " + factor);
        this.factor = factor;
    }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(2) % factor != 0 || x.dim(3) % factor != 0) {
            throw new IllegalArgumentException("PixelUnshuffle(" + factor + ") needs NCHW input with H and W divisible by " + factor + ", got shape " + x.shape());
        }
        return x.pixelUnshuffle(factor);
    }

    @Override public String toString() { return "PixelUnshuffle(" + factor + ")"; }
}
