package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Tensor;

/** max(x, 0). */
public class ReLU extends Layer {
    @Override public Tensor forward(Tensor x) { return x.relu(); }

    @Override public String toString() { return "ReLU()"; }
}
