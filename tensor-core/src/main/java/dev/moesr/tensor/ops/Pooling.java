package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.PoolGeometry;

/** Differentiable max and average pooling of NCHW tensors (square windows, PyTorch floor mode). */
public final class Pooling {
    private Pooling() {}

    /** Max pooling; the gradient goes to the (first) maximum of each window. */
    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        PoolGeometry g = geometry(x, kernel, stride, padding, "maxPool2d");
        int[] outShape = {g.batch(), g.channels(), g.outH(), g.outW()};
        Tensor out = Tensor.empty(x.backend(), DType.F32, outShape);
        Tensor argmax = Tensor.empty(x.backend(), DType.F32, outShape);
        x.backend().maxPool2d(x.storage(), out.storage(), argmax.storage(), g);
        return out.recordedAs("max_pool2d", gradOut -> {
            Tensor gi = Tensor.empty(x.backend(), DType.F32, x.dims());
            x.backend().maxPool2dBackward(gradOut.storage(), argmax.storage(), gi.storage(), g);
            return new Tensor[] {gi};
        }, x);
    }

    /** Average pooling; padded positions count as zeros in the window (count_include_pad). */
    public static Tensor avgPool2d(Tensor x, int kernel, int stride, int padding) {
        PoolGeometry g = geometry(x, kernel, stride, padding, "avgPool2d");
        Tensor out = Tensor.empty(x.backend(), DType.F32, g.batch(), g.channels(), g.outH(), g.outW());
        x.backend().avgPool2d(x.storage(), out.storage(), g);
        return out.recordedAs("avg_pool2d", gradOut -> {
            Tensor gi = Tensor.empty(x.backend(), DType.F32, x.dims());
            x.backend().avgPool2dBackward(gradOut.storage(), gi.storage(), g);
            return new Tensor[] {gi};
        }, x);
    }

    private static PoolGeometry geometry(Tensor x, int kernel, int stride, int padding, String op) {
        Elementwise.requireReal(x, op);
        if (x.rank() != 4) throw new IllegalArgumentException(op + " takes an NCHW tensor (rank 4), got shape " + x.shape());
        try {
            return new PoolGeometry(x.dim(0), x.dim(1), x.dim(2), x.dim(3), kernel, kernel, stride, stride, padding, padding);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + " of " + x.shape() + " with kernel " + kernel + ", stride " + stride
                    + ", padding " + padding + ": " + e.getMessage(), e);
        }
    }
}
