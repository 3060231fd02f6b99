package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;

/** Differentiable 2-D convolution. */
public final class Conv {
    private Conv() {}

    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int strideH, int strideW, int padH, int padW, int dilH, int dilW, int groups) {
        throw new UnsupportedOperationException("conv2d not written yet");
    }
}
