package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Tensor;

/** x * sigmoid(x). */
public class SiLU extends Layer {
    @Override public Tensor forward(Tensor x) { return x.silu(); }

    @Override public String toString() { return "SiLU()"; }
}
