package dev.moesr.diffusion.unet;

import dev.moesr.nn.Init;
import dev.moesr.nn.InPlace;
import dev.moesr.nn.Layer;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/**
 * PyTorch's Conv1d with kernel size 1 on (B, in, L) input, as LDM's attention uses it for
 * {@code qkv} and {@code proj_out}: weight [out, in, 1], bias [out], y = W x + b. Default
 * initialisation U(+-1/sqrt(in)), or zeros.
 */
public final class PointwiseConv1d extends Layer {
    public final int inChannels, outChannels;
    private final Parameter weight;
    private final Parameter bias;

    public PointwiseConv1d(int inChannels, int outChannels, Philox rng) {
        if (inChannels <= 0 || outChannels <= 0) throw new IllegalArgumentException("PointwiseConv1d needs positive channels, got " + inChannels + " -> " + outChannels);
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        double bound = Init.defaultBound(inChannels);
        weight = registerParameter("weight", Init.uniform(rng, Device.CPU, bound, outChannels, inChannels, 1));
        bias = registerParameter("bias", Init.uniform(rng, Device.CPU, bound, outChannels));
    }

    public Parameter weight() { return weight; }

    public Parameter bias() { return bias; }

    /** Sets weight and bias to zero (LDM's zero_module). */
    void zero() {
        InPlace.fill(weight.tensor(), 0f);
        InPlace.fill(bias.tensor(), 0f);
    }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 3 || x.dim(1) != inChannels) {
            throw new IllegalArgumentException("PointwiseConv1d(" + inChannels + " -> " + outChannels + ") needs (B, " + inChannels + ", L) input, got " + x.shape());
        }
        // [out, in] @ (B, in, L): the weight is shared by the batch (no copy of it is made)
        return weight.tensor().reshape(outChannels, inChannels).matmul(x).add(bias.tensor().reshape(outChannels, 1));
    }

    @Override public String toString() { return "PointwiseConv1d(" + inChannels + ", " + outChannels + ")"; }
}
