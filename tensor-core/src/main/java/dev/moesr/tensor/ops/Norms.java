package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;

/** Group, layer and batch normalisation. */
public final class Norms {
    private Norms() {}

    public static Tensor groupNorm(Tensor x, int groups, Tensor weight, Tensor bias, float eps) {
        throw new UnsupportedOperationException("group norm not written yet");
    }

    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, float eps) {
        throw new UnsupportedOperationException("layer norm not written yet");
    }

    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias, boolean training, float momentum, float eps) {
        throw new UnsupportedOperationException("batch norm not written yet");
    }
}
