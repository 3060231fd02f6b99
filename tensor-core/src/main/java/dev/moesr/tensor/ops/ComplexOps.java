package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;

/** Differentiable complex arithmetic. Gradients of complex tensors hold (dL/dRe, dL/dIm). */
public final class ComplexOps {
    private ComplexOps() {}

    public static Tensor complex(Tensor real, Tensor imag) {
        throw new UnsupportedOperationException("complex not written yet");
    }

    public static Tensor real(Tensor z) {
        throw new UnsupportedOperationException("real not written yet");
    }

    public static Tensor imag(Tensor z) {
        throw new UnsupportedOperationException("imag not written yet");
    }

    public static Tensor conj(Tensor z) {
        throw new UnsupportedOperationException("conj not written yet");
    }

    public static Tensor add(Tensor a, Tensor b) {
        throw new UnsupportedOperationException("complex add not written yet");
    }

    public static Tensor sub(Tensor a, Tensor b) {
        throw new UnsupportedOperationException("complex sub not written yet");
    }

    public static Tensor mul(Tensor a, Tensor b) {
        throw new UnsupportedOperationException("complex mul not written yet");
    }

    public static Tensor scale(Tensor z, float s) {
        throw new UnsupportedOperationException("complex scale not written yet");
    }

    public static Tensor abs(Tensor z) {
        throw new UnsupportedOperationException("complex abs not written yet");
    }
}
