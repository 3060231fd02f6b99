package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Tensor;

/** GELU, exact (erf) by default or the tanh approximation (PyTorch's approximate="tanh"). */
public class GELU extends Layer {
    public final boolean tanhApproximation;

    public GELU() { this(false); }

    public GELU(boolean tanhApproximation) { this.tanhApproximation = tanhApproximation; }

    @Override public Tensor forward(Tensor x) { return tanhApproximation ? x.geluTanh() : x.gelu(); }

    @Override public String toString() { return tanhApproximation ? "GELU(tanh)" : "GELU()"; }
}
