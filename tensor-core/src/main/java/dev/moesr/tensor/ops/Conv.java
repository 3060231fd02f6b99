package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;

/** Differentiable convolution and pooling. */
public final class Conv {
    private Conv() {}

    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int strideH, int strideW, int padH, int padW, int dilH, int dilW, int groups) {
        throw new UnsupportedOperationException("conv2d not written yet");
    }

    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        throw new UnsupportedOperationException("max pool not written yet");
    }

    public static Tensor avgPool2d(Tensor x, int kernel, int stride, int padding) {
        throw new UnsupportedOperationException("avg pool not written yet");
    }
}
