package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.BinaryOp;
import dev.moesr.tensor.backend.ConvGeometry;

/** Differentiable 2-D convolution. */
public final class Conv {
    private Conv() {}

    /**
     * PyTorch's conv2d: x [N, C, H, W], weight [O, C/groups, kh, kw], optional bias [O]; the
     * output is [N, O, (H + 2*padH - dilH*(kh-1) - 1)/strideH + 1, ...]. Differentiable in all
     * three inputs.
     */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int strideH, int strideW, int padH, int padW, int dilH, int dilW, int groups) {
        Elementwise.requireReal(x, "conv2d");
        Elementwise.requireReal(w, "conv2d");
        Backend be = Elementwise.sameBackend(x, w);
        if (x.rank() != 4) {
            throw new IllegalArgumentException("conv2d input must be [N, C, H, W], got " + x.shape() + " (add a batch dimension with unsqueeze(0))");
        }
        if (w.rank() != 4) {
            throw new IllegalArgumentException("conv2d weight must be [out, in/groups, kh, kw], got " + w.shape());
        }
        if (groups < 1 || x.dim(1) % groups != 0 || w.dim(0) % groups != 0) {
            throw new IllegalArgumentException("conv2d groups=" + groups + " must divide the input channels of " + x.shape()
                    + " and the output channels of weight " + w.shape());
        }
        if (w.dim(1) * groups != x.dim(1)) {
            throw new IllegalArgumentException("conv2d weight " + w.shape() + " expects " + w.dim(1) * groups + " input channels ("
                    + w.dim(1) + " per group, " + groups + " groups) but the input " + x.shape() + " has " + x.dim(1));
        }
        if (bias != null) {
            Elementwise.requireReal(bias, "conv2d");
            Elementwise.sameBackend(x, bias);
            if (bias.rank() != 1 || bias.dim(0) != w.dim(0)) {
                throw new IllegalArgumentException("conv2d bias must be [" + w.dim(0) + "] for weight " + w.shape() + ", got " + bias.shape());
            }
        }
        ConvGeometry g = new ConvGeometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), w.dim(0), w.dim(2), w.dim(3),
                strideH, strideW, padH, padW, dilH, dilW, groups);
        int[] outShape = {g.batch(), g.outChannels(), g.outH(), g.outW()};
        Tensor out = Tensor.empty(be, DType.F32, outShape);
        be.conv2d(x.storage(), w.storage(), out.storage(), g);
        if (bias != null) {
            // in place: out is ours alone, and a second output-sized buffer would double the peak of a wide layer
            be.binary(BinaryOp.ADD, out.storage(), outShape, bias.storage(), new int[] {1, g.outChannels(), 1, 1}, out.storage(), outShape);
        }
        return out.recordedAs("conv2d", gOut -> {
            Tensor gx = null, gw = null, gb = null;
            if (x.needsGrad()) {
                gx = Tensor.empty(be, DType.F32, x.dims());
                be.conv2dBackwardData(gOut.storage(), w.storage(), gx.storage(), g);
            }
            if (w.needsGrad()) {
                gw = Tensor.empty(be, DType.F32, w.dims());
                be.conv2dBackwardFilter(x.storage(), gOut.storage(), gw.storage(), g);
            }
            if (bias != null && bias.needsGrad()) gb = gOut.sum(new int[] {0, 2, 3}, false);
            return new Tensor[] {gx, gw, gb};
        }, x, w, bias);
    }
}
