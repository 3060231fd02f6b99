package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Tensor;

import java.util.Arrays;

/**
 * Differentiable index select, gather and embedding lookup. Index tensors are real tensors
 * holding whole numbers (exact below 2^24); they get no gradient.
 */
public final class Indexing {
    private Indexing() {}

    /** The entries of dimension {@code dim} named by the 1-D {@code index}, in its order (repeats allowed). Works for complex x. */
    public static Tensor indexSelect(Tensor x, int dim, Tensor index) {
        requireIndex(index, x, "indexSelect");
        if (index.rank() != 1) throw new IllegalArgumentException("indexSelect takes a 1-D index, got shape " + index.shape());
        if (x.rank() == 0) throw new IllegalArgumentException("indexSelect needs a tensor with at least one dimension, got a scalar");
        int a = x.shape().axis(dim);
        int outer = 1, inner = x.dtype().floats;
        for (int i = 0; i < a; i++) outer *= x.dim(i);
        for (int i = a + 1; i < x.rank(); i++) inner *= x.dim(i);
        int axis = x.dim(a), count = index.dim(0);
        int[] outShape = x.dims();
        outShape[a] = count;
        Tensor out = Tensor.empty(x.backend(), x.dtype(), outShape);
        int o = outer, in = inner;
        x.backend().indexSelect(x.storage(), o, axis, in, index.storage(), count, out.storage());
        return out.recordedAs("index_select", g -> {
            Tensor gi = Tensor.empty(x.backend(), x.dtype(), x.dims());
            x.backend().indexSelectBackward(g.storage(), o, axis, in, index.storage(), count, gi.storage());
            return new Tensor[] {gi, null};
        }, x, index);
    }

    /**
     * torch.gather: out has the index's shape and out[i..., j, k...] = x[i..., index[i..., j, k...], k...]
     * along dim. The index has x's rank and is no larger than x in the other dimensions.
     */
    public static Tensor gather(Tensor x, int dim, Tensor index) {
        Elementwise.requireReal(x, "gather");
        requireIndex(index, x, "gather");
        if (x.rank() == 0 && index.rank() == 0) {
            if (dim != 0 && dim != -1) throw new IllegalArgumentException("gather dimension " + dim + " out of range for a scalar");
            return gather(x.reshape(1), 0, index.reshape(1)).reshape();
        }
        if (index.rank() != x.rank()) {
            throw new IllegalArgumentException("gather: index " + index.shape() + " must have the rank of the input " + x.shape());
        }
        int a = x.shape().axis(dim);
        for (int i = 0; i < x.rank(); i++) {
            if (i != a && index.dim(i) > x.dim(i)) {
                throw new IllegalArgumentException("gather along " + dim + ": index " + index.shape() + " is larger than the input "
                        + x.shape() + " in dimension " + i);
            }
        }
        int[] xShape = x.dims(), indexShape = index.dims();
        Tensor out = Tensor.empty(x.backend(), DType.F32, indexShape);
        if (out.numel() > 0) x.backend().gather(x.storage(), xShape, a, index.storage(), indexShape, out.storage());
        return out.recordedAs("gather", g -> {
            Tensor gi = Tensor.empty(x.backend(), DType.F32, xShape);
            if (gi.numel() > 0) x.backend().gatherBackward(g.storage(), indexShape, a, index.storage(), xShape, gi.storage());
            return new Tensor[] {gi, null};
        }, x, index);
    }

    /** Rows of weight [num, dim] for each entry of indices: shape indices.shape + [dim]. The gradient adds up at repeated indices. */
    public static Tensor embedding(Tensor weight, Tensor indices) {
        if (weight.rank() != 2) throw new IllegalArgumentException("embedding weight must be [num, dim], got shape " + weight.shape());
        requireIndex(indices, weight, "embedding");
        int[] outShape = Arrays.copyOf(indices.dims(), indices.rank() + 1);
        outShape[indices.rank()] = weight.dim(1);
        return indexSelect(weight, 0, indices.reshape(-1)).reshape(outShape);
    }

    private static void requireIndex(Tensor index, Tensor x, String op) {
        if (index.isComplex()) throw new IllegalArgumentException(op + ": indices must be a real tensor of whole numbers, got a complex one");
        if (index.backend() != x.backend()) {
            throw new IllegalArgumentException(op + ": indices are on " + index.device() + " but the input is on " + x.device() + "; move one with .to(device)");
        }
    }
}
