package dev.moesr.nn.layers;

import dev.moesr.nn.Init;
import dev.moesr.nn.Layer;
import dev.moesr.nn.Parameter;
import dev.moesr.tensor.Device;
import dev.moesr.tensor.Philox;
import dev.moesr.tensor.Tensor;

/** 2-D convolution of NCHW input (PyTorch's nn.Conv2d with zero padding); weight [out, in/groups, k, k], bias [out]. */
public class Conv2d extends Layer {
    public final int inChannels, outChannels, kernel, stride, padding, dilation, groups;
    private final Parameter weight;
    private final Parameter bias;

    /** A convolution with bias, dilation 1 and one group. */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, Philox rng) {
        this(inChannels, outChannels, kernel, stride, padding, 1, 1, true, rng);
    }

    /** Weight and bias uniform in +-1/sqrt(fanIn), fanIn = inChannels/groups * kernel^2: PyTorch's default. */
    public Conv2d(int inChannels, int outChannels, int kernel, int stride, int padding, int dilation, int groups, boolean bias, Philox rng) {
        if (inChannels <= 0 || outChannels <= 0 || kernel <= 0 || stride <= 0 || padding < 0 || dilation <= 0 || groups <= 0) {
            throw new IllegalArgumentException("Conv2d needs positive channels, kernel, stride, dilation and groups and padding >= 0; got in "
                    + inChannels + ", out " + outChannels + ", kernel " + kernel + ", stride " + stride + ", padding " + padding
                    + ", dilation " + dilation + ", groups " + groups);
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("Conv2d channels must divide into groups: in " + inChannels + ", out " + outChannels + ", groups " + groups);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        int[] shape = {outChannels, inChannels / groups, kernel, kernel};
        double bound = Init.defaultBound(Init.fanIn(shape));
        this.weight = registerParameter("weight", Init.uniform(rng, Device.CPU, bound, shape));
        this.bias = bias ? registerParameter("bias", Init.uniform(rng, Device.CPU, bound, outChannels)) : null;
    }

    public Parameter weight() { return weight; }

    /** The bias, or null when built without one. */
    public Parameter bias() { return bias; }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != inChannels) {
            throw new IllegalArgumentException(this + " needs NCHW input with " + inChannels + " channels, got shape " + x.shape());
        }
        return x.conv2d(weight.tensor(), bias == null ? null : bias.tensor(), stride, padding, dilation, groups);
    }

    @Override public String toString() {
        return "Conv2d(" + inChannels + ", " + outChannels + ", kernel " + kernel + ", stride " + stride + ", padding " + padding
                + (dilation != 1 ? ", dilation " + dilation : "") + (groups != 1 ? ", groups " + groups : "") + (bias == null ? ", bias=false)" : ")");
    }
}
