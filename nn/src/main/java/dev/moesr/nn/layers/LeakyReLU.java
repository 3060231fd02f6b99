package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Tensor;

/** x for x >= 0, slope * x below (PyTorch's default slope 0.01). */
public class LeakyReLU extends Layer {
    public final float negativeSlope;

    public LeakyReLU() { this(0.01f); }

    public LeakyReLU(float negativeSlope) { this.negativeSlope = negativeSlope; }

    @Override public Tensor forward(Tensor x) { return x.leakyRelu(negativeSlope); }

    @Override public String toString() { return "LeakyReLU(" + negativeSlope + ")"; }
}
