package dev.moesr.nn.layers;

import dev.moesr.nn.Init;
import dev.moesr.nn.Layer;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/** y = x W^T + b over the last dimension; weight [out, in], bias [out] (PyTorch's nn.Linear). */
public class Linear extends Layer {
    public final int inFeatures, outFeatures;
    private final Parameter weight;
    private final Parameter bias;

    public Linear(int inFeatures, int outFeatures, Philox rng) { this(inFeatures, outFeatures, true, rng); }

    /** Weight and bias uniform in +-1/sqrt(inFeatures), PyTorch's default. */
    public Linear(int inFeatures, int outFeatures, boolean bias, Philox rng) {
        if (inFeatures < 0 || outFeatures < 0) throw new IllegalArgumentException("Linear sizes must be >= 0, got in " + inFeatures + ", out " + outFeatures);
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        double bound = Init.defaultBound(inFeatures);
        this.weight = registerParameter("weight", Init.uniform(rng, Device.CPU, bound, outFeatures, inFeatures));
        this.bias = bias ? registerParameter("bias", Init.uniform(rng, Device.CPU, bound, outFeatures)) : null;
    }

    public Parameter weight() { return weight; }

    /** The bias, or null when built without one. */
    public Parameter bias() { return bias; }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() < 1 || x.dim(-1) != inFeatures) {
            throw new IllegalArgumentException("Linear(" + inFeatures + " -> " + outFeatures + ") needs input with last dimension "
                    + inFeatures + ", got shape " + x.shape());
        }
        Tensor y = x.linear(weight.tensor());
        return bias == null ? y : y.add(bias.tensor());
    }

    @Override public String toString() { return "Linear(" + inFeatures + ", " + outFeatures + (bias == null ? ", bias=false)" : ")"); }
}
