package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;

/** Differentiable max and average pooling. */
public final class Pooling {
    private Pooling() {}

    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        throw new UnsupportedOperationException("max pool not written yet");
    }

    public static Tensor avgPool2d(Tensor x, int kernel, int stride, int padding) {
        throw new UnsupportedOperationException("avg pool not written yet");
    }
}
