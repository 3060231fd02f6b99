package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Tensor;

/** Average pooling of NCHW input (zero padding counted in the average, PyTorch's default). */
public class AvgPool2d extends Layer {
    public final int kernel, stride, padding;

    public AvgPool2d(int kernel, int stride, int padding) {
        if (kernel <= 0 || stride <= 0 || padding < 0 || 2 * padding > kernel) {
            throw new IllegalArgumentException("AvgPool2d needs kernel > 0, stride > 0, 0 <= padding <= kernel/2; got kernel "
                    + kernel + ", stride " + stride + ", padding " + padding);
        }
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    @Override public Tensor forward(Tensor x) {
        if (x.rank() != 4) throw new IllegalArgumentException("AvgPool2d needs NCHW input, got shape " + x.shape());
        return x.avgPool2d(kernel, stride, padding);
    }

    @Override public String toString() { return "AvgPool2d(" + kernel + ", stride " + stride + ", padding " + padding + ")"; }
}
