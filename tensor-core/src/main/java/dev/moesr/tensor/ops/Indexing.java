package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;

/** Differentiable index select, gather and embedding lookup. */
public final class Indexing {
    private Indexing() {}

    public static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        throw new UnsupportedOperationException("index select not written yet");
    }

    public static Tensor gather(Tensor x, int dim, Tensor index) {
        throw new UnsupportedOperationException("gather not written yet");
    }

    public static Tensor embedding(Tensor weight, Tensor indices) {
        throw new UnsupportedOperationException("embedding not written yet");
    }
}
