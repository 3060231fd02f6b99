package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * Halves H and W, as the LDM Downsample block: a 3x3 convolution with stride 2 and padding 1,
 * or 2x2 average pooling with stride 2. Either way the child is named "op"
 * ({@code op.weight}, {@code op.bias} in the state dict).
 */
public class Downsample extends Layer {
    private final Layer op;

    private Downsample(Layer op) {
        this.op = registerModule("op", op);
    }

    /** Conv2d(channels, outChannels, 3, stride 2, padding 1). */
    public static Downsample conv(int channels, int outChannels, Philox rng) {
        return new Downsample(new Conv2d(channels, outChannels, 3, 2, 1, rng));
    }

    /** AvgPool2d(2, stride 2): no parameters, channels unchanged. */
    public static Downsample avgPool() {
        return new Downsample(new AvgPool2d(2, 2, 0));
    }

    public Layer op() { return op; }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4) throw new IllegalArgumentException("Downsample needs NCHW input, got shape " + x.shape());
        return op.forward(x);
    }

    @Override public String toString() { return "Downsample(" + op + ")"; }
}
