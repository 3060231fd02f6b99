package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.ReduceOp;

import java.util.Arrays;

/** Differentiable reductions over chosen dimensions, and softmax. */
public final class Reductions {
    private Reductions() {}

    /** Marks the reduced dimensions; null or empty dims mean all of them. */
    static boolean[] mask(Shape s, int[] dims) {
        boolean[] m = new boolean[s.rank()];
        if (dims == null || dims.length == 0) {
            Arrays.fill(m, true);
            return m;
        }
        for (int d : dims) {
            int a = s.axis(d);
            if (m[a]) throw new IllegalArgumentException("dimension " + d + " listed twice in " + Arrays.toString(dims));
            m[a] = true;
        }
        return m;
    }

    static int[] keptShape(Shape s, boolean[] m) {
        int[] k = s.dims();
        for (int i = 0; i < k.length; i++) if (m[i]) k[i] = 1;
        return k;
    }

    static int[] droppedShape(Shape s, boolean[] m) {
        return Arrays.stream(s.dims()).filter(new java.util.function.IntPredicate() {
            int i = 0;
            @Override public boolean test(int v) { return !m[i++]; }
        }).toArray();
    }

    /** Raw reduction, no graph: output keeps size-1 dimensions. */
    static Tensor reduceRaw(ReduceOp op, Tensor x, boolean[] m) {
        Elementwise.requireReal(x, op.name());
        Tensor out = Tensor.empty(x.backend(), DType.F32, keptShape(x.shape(), m));
        x.backend().reduce(op, x.storage(), x.dims(), m, out.storage());
        return out;
    }

    private static Tensor finish(Tensor kept, Shape in, boolean[] m, boolean keepDim) {
        return keepDim ? kept : kept.reshape(droppedShape(in, m));
    }

    public static Tensor sum(Tensor x, int[] dims, boolean keepDim) {
        boolean[] m = mask(x.shape(), dims);
        Tensor out = reduceRaw(ReduceOp.SUM, x, m).recordedAs("sum", g -> new Tensor[] {g.expand(x.dims())}, x);
        return keepDim ? out : out.reshape(droppedShape(x.shape(), m));
    }

    /** Sums {@code g} over the dimensions that broadcasting added or stretched to reach it from {@code target}. */
    public static Tensor sumTo(Tensor g, Shape target) {
        if (g.shape().equals(target)) return g;
        int extra = g.rank() - target.rank();
        if (extra < 0) throw new IllegalArgumentException("cannot sum " + g.shape() + " to the larger shape " + target);
        int[] padded = target.padLeft(g.rank());
        int count = 0;
        boolean[] m = new boolean[g.rank()];
        for (int i = 0; i < g.rank(); i++) {
            if (padded[i] != g.dim(i)) {
                if (padded[i] != 1) throw new IllegalArgumentException("cannot sum " + g.shape() + " to " + target);
                m[i] = true;
                count++;
            }
        }
        Tensor s = count == 0 ? g : sumMasked(g, m);
        return s.reshape(target.dims());
    }

    private static Tensor sumMasked(Tensor g, boolean[] m) {
        int[] dims = new int[0];
        for (int i = 0; i < m.length; i++) if (m[i]) { dims = Arrays.copyOf(dims, dims.length + 1); dims[dims.length - 1] = i; }
        return sum(g, dims, true);
    }

    public static Tensor mean(Tensor x, int[] dims, boolean keepDim) {
        boolean[] m = mask(x.shape(), dims);
        long n = 1;
        for (int i = 0; i < m.length; i++) if (m[i]) n *= x.dim(i);
        return sum(x, dims, keepDim).mul(1f / n);
    }

    /** Variance: sum((x - mean)^2) / (n - correction). */
    public static Tensor var(Tensor x, int[] dims, boolean keepDim, int correction) {
        boolean[] m = mask(x.shape(), dims);
        long n = 1;
        for (int i = 0; i < m.length; i++) if (m[i]) n *= x.dim(i);
        Tensor centered = x.sub(mean(x, dims, true));
        Tensor ss = sum(centered.square(), dims, keepDim);
        return ss.mul(1f / Math.max(0, n - correction));
    }

    public static Tensor max(Tensor x, int[] dims, boolean keepDim) { return extreme(ReduceOp.MAX, x, dims, keepDim); }

    public static Tensor min(Tensor x, int[] dims, boolean keepDim) { return extreme(ReduceOp.MIN, x, dims, keepDim); }

    private static Tensor extreme(ReduceOp op, Tensor x, int[] dims, boolean keepDim) {
        boolean[] m = mask(x.shape(), dims);
        if (x.numel() == 0) throw new IllegalArgumentException(op.name().toLowerCase() + " of an empty tensor " + x.shape());
        Tensor kept = reduceRaw(op, x, m);
        kept.recordedAs(op.name().toLowerCase(java.util.Locale.ROOT), g -> {
            // the gradient goes to the extreme elements, split evenly between ties
            Tensor hit = x.eq(kept);
            Tensor share = hit.div(sum(hit, dims, true));
            return new Tensor[] {share.mul(g)};
        }, x);
        return finish(kept, x.shape(), m, keepDim);
    }

    public static Tensor argmax(Tensor x, int dim, boolean keepDim) {
        boolean[] m = mask(x.shape(), new int[] {dim});
        return finish(reduceRaw(ReduceOp.ARGMAX, x, m), x.shape(), m, keepDim);
    }

    public static Tensor argmin(Tensor x, int dim, boolean keepDim) {
        boolean[] m = mask(x.shape(), new int[] {dim});
        return finish(reduceRaw(ReduceOp.ARGMIN, x, m), x.shape(), m, keepDim);
    }

    /** Softmax or log-softmax along {@code dim}. */
    public static Tensor softmax(Tensor x, int dim, boolean log) {
        Elementwise.requireReal(x, log ? "log_softmax" : "softmax");
        if (x.rank() == 0) {
            if (dim != 0 && dim != -1) throw new IllegalArgumentException("softmax dimension " + dim + " out of range for a scalar (use 0 or -1)");
            return softmaxLast(x.reshape(1), log).reshape();
        }
        int a = x.shape().axis(dim);
        int last = x.rank() - 1;
        if (a == last) return softmaxLast(x, log);
        // the backend works on rows of the last dimension: move dim there and back (two copies)
        return softmaxLast(x.transpose(a, last), log).transpose(a, last);
    }

    /** Softmax over the last dimension, through the backend's row kernel. */
    private static Tensor softmaxLast(Tensor x, boolean log) {
        int cols = x.dim(-1);
        int rows = 1;
        for (int i = 0; i < x.rank() - 1; i++) rows *= x.dim(i);
        Tensor out = Tensor.empty(x.backend(), DType.F32, x.dims());
        if (out.numel() == 0) return out.recordedAs(log ? "log_softmax" : "softmax", g -> new Tensor[] {g}, x);
        int r = rows;
        x.backend().softmax(x.storage(), out.storage(), r, cols, log);
        return out.recordedAs(log ? "log_softmax" : "softmax", g -> {
            Tensor gi = Tensor.empty(x.backend(), DType.F32, x.dims());
            x.backend().softmaxBackward(out.storage(), g.storage(), gi.storage(), r, cols, log);
            return new Tensor[] {gi};
        }, x);
    }
}
