package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;

/** Differentiable orthonormal 2-D FFTs over the last two dimensions. */
public final class Spectral {
    private Spectral() {}

    public static Tensor fft2(Tensor x, boolean inverse) {
        throw new UnsupportedOperationException("fft2 not written yet");
    }

    public static Tensor rfft2(Tensor x) {
        throw new UnsupportedOperationException("rfft2 not written yet");
    }

    public static Tensor irfft2(Tensor x, int w) {
        throw new UnsupportedOperationException("irfft2 not written yet");
    }
}
