package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;

/** Differentiable matrix products. */
public final class Linalg {
    private Linalg() {}

    public static Tensor matmul(Tensor a, Tensor b) {
        throw new UnsupportedOperationException("matmul not written yet");
    }
}
