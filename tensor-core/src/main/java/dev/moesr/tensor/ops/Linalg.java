package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.GradMode;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Backend;

import java.util.Arrays;

/** Differentiable matrix products. */
public final class Linalg {
    private Linalg() {}

    /**
     * The matrix product with NumPy's rules: a 1-D left operand is a row vector and a 1-D right
     * operand a column vector (their added dimension is dropped from the result); operands of
     * rank 3 or more are stacks of matrices whose leading (batch) dimensions broadcast.
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        Elementwise.requireReal(a, "matmul");
        Elementwise.requireReal(b, "matmul");
        Elementwise.sameBackend(a, b);
        if (a.rank() == 0 || b.rank() == 0) {
            throw new IllegalArgumentException("matmul needs operands of rank >= 1, got " + a.shape() + " and " + b.shape()
                    + "; multiply by a scalar with mul");
        }
        int ka = a.dim(-1), kb = b.rank() == 1 ? b.dim(0) : b.dim(-2);
        if (ka != kb) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: a " + a.shape() + " has " + ka
                    + " columns but b " + b.shape() + " has " + kb + " rows (the last dimension of a must equal "
                    + (b.rank() == 1 ? "the length of b" : "the second-to-last dimension of b") + ")");
        }
        int[] batch = broadcastBatch(a, b);
        if (a.rank() >= 2 && b.rank() >= 2) return product(a, b);
        // promote vectors to matrices with views; their gradients flow back through the reshapes
        Tensor a2 = a.rank() == 1 ? a.reshape(1, ka) : a;
        Tensor b2 = b.rank() == 1 ? b.reshape(kb, 1) : b;
        Tensor full = product(a2, b2);
        int[] d = full.dims();
        int[] out = new int[d.length - (a.rank() == 1 ? 1 : 0) - (b.rank() == 1 ? 1 : 0)];
        System.arraycopy(d, 0, out, 0, batch.length);
        int at = batch.length;
        if (a.rank() != 1) out[at++] = d[d.length - 2];
        if (b.rank() != 1) out[at] = d[d.length - 1];
        return full.reshape(out);
    }

    /**
     * x W^T over the last dimension of x, for a weight [out, in] stored as PyTorch's Linear
     * stores it: the transpose is a flag of the GEMM, not a copy.
     */
    @SuppressWarnings("try")   // the GradMode resource only scopes the setting
    public static Tensor linear(Tensor x, Tensor weight) {
        Elementwise.requireReal(x, "linear");
        Elementwise.requireReal(weight, "linear");
        Elementwise.sameBackend(x, weight);
        if (weight.rank() != 2 || x.rank() < 1 || x.dim(-1) != weight.dim(1)) {
            throw new IllegalArgumentException("linear: input " + x.shape() + " needs a weight [out, " + (x.rank() < 1 ? "?" : x.dim(-1))
                    + "], got " + weight.shape());
        }
        Tensor rows = x.reshape(-1, x.dim(-1));
        Tensor out;
        try (GradMode ignored = GradMode.off()) {
            out = raw(rows, false, weight, true);
        }
        out.recordedAs("linear", g -> new Tensor[] {
                rows.needsGrad() ? raw(g, false, weight, false) : null,
                weight.needsGrad() ? raw(g, true, rows, false) : null}, rows, weight);
        int[] shape = x.dims();
        shape[shape.length - 1] = weight.dim(0);
        return out.reshape(shape);
    }

    /**
     * a @ b^T over the last two dimensions (a [..., m, k], b [..., n, k]), batch dimensions
     * broadcasting as in {@link #matmul}: the transpose is a flag of the GEMM, not a copy of b.
     */
    @SuppressWarnings("try")   // the GradMode resource only scopes the setting
    public static Tensor matmulTransposed(Tensor a, Tensor b) {
        Elementwise.requireReal(a, "matmulTransposed");
        Elementwise.requireReal(b, "matmulTransposed");
        Elementwise.sameBackend(a, b);
        if (a.rank() < 2 || b.rank() < 2 || a.dim(-1) != b.dim(-1)) {
            throw new IllegalArgumentException("matmulTransposed needs a [..., m, k] and b [..., n, k] with the same k, got "
                    + a.shape() + " and " + b.shape());
        }
        broadcastBatch(a, b);   // a clear message when the batches do not broadcast
        Tensor out;
        try (GradMode ignored = GradMode.off()) {
            out = raw(a, false, b, true);
        }
        return out.recordedAs("matmulTransposed", g -> new Tensor[] {
                a.needsGrad() ? sumToAndRelease(raw(g, false, b, false), a) : null,     // dL/da = g b
                b.needsGrad() ? sumToAndRelease(raw(g, true, a, false), b) : null}, a, b);   // dL/db = g^T a
    }

    /** The broadcast batch shape of two matmul operands (their dimensions before the last two). */
    private static int[] broadcastBatch(Tensor a, Tensor b) {
        try {
            return Shape.broadcast(Shape.of(batchDims(a)), Shape.of(batchDims(b))).dims();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("matmul: the batch dimensions of a " + a.shape() + " and b " + b.shape()
                    + " do not broadcast: " + Arrays.toString(batchDims(a)) + " vs " + Arrays.toString(batchDims(b)), e);
        }
    }

    private static int[] batchDims(Tensor t) {
        return t.rank() <= 2 ? new int[0] : Arrays.copyOf(t.dims(), t.rank() - 2);
    }

    /** a [..., m, k] @ b [..., k, n] over the broadcast batch shape, with the graph. */
    @SuppressWarnings("try")   // the GradMode resource only scopes the setting
    private static Tensor product(Tensor a, Tensor b) {
        Tensor out;
        try (GradMode ignored = GradMode.off()) {
            out = raw(a, false, b, false);
        }
        return out.recordedAs("matmul", g -> new Tensor[] {
                a.needsGrad() ? gradLeft(g, a, b) : null,
                b.needsGrad() ? gradRight(g, a, b) : null}, a, b);
    }

    /** dL/da = g b^T, summed over the batch dimensions that a was broadcast along. */
    private static Tensor gradLeft(Tensor g, Tensor a, Tensor b) {
        return sumToAndRelease(raw(g, false, b, true), a);
    }

    /** dL/db = a^T g, summed over the batch dimensions that b was broadcast along. */
    private static Tensor gradRight(Tensor g, Tensor a, Tensor b) {
        if (b.rank() == 2 && a.rank() > 2 && g.numel() > 0 && a.numel() > 0) {
            // b was shared by the whole batch of a: fold the batch into the contracted dimension,
            // one product (a rows)^T x (g rows) instead of a batch of them and a sum
            Tensor aRows = a.reshape(-1, a.dim(-1));
            Tensor gRows = g.reshape(-1, g.dim(-1));
            try {
                return raw(aRows, true, gRows, false);
            } finally {
                aRows.release();
                gRows.release();
            }
        }
        return sumToAndRelease(raw(a, true, g, false), b);
    }

    private static Tensor sumToAndRelease(Tensor full, Tensor like) {
        Tensor s = Reductions.sumTo(full, like.shape());
        if (s != full) full.release();
        return s;
    }

    /**
     * op(a) @ op(b), where op transposes the last two dimensions when its flag is set and the
     * batch dimensions broadcast; records nothing. An operand that is one matrix for the whole
     * batch is passed with batch stride 0; one broadcast along only some batch dimensions is
     * expanded first.
     */
    static Tensor raw(Tensor a, boolean ta, Tensor b, boolean tb) {
        Backend be = a.backend();
        int m = ta ? a.dim(-1) : a.dim(-2), k = ta ? a.dim(-2) : a.dim(-1);
        int n = tb ? b.dim(-2) : b.dim(-1);
        int[] batch = Shape.broadcast(Shape.of(batchDims(a)), Shape.of(batchDims(b))).dims();
        long count = Shape.of(batch).numel();
        if (count > Integer.MAX_VALUE) throw new IllegalArgumentException("matmul batch of " + count + " matrices is too large");
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        Tensor out = Tensor.empty(be, DType.F32, outShape);
        if (out.numel() == 0) return out;
        Tensor ea = expandBatch(a, batch), eb = expandBatch(b, batch);
        try {
            long strideA = isShared(ea, count) ? 0 : (long) m * k;
            long strideB = isShared(eb, count) ? 0 : (long) k * n;
            if (strideB == 0 && strideA != 0 && !ta) {
                // a stack times one matrix is one tall product: fold the batch into the rows
                be.matmul(ea.storage(), eb.storage(), out.storage(), 1, (int) (count * m), n, k, false, tb, 0, 0, 0, 1f, 0f);
            } else {
                be.matmul(ea.storage(), eb.storage(), out.storage(), (int) count, m, n, k, ta, tb, strideA, strideB, (long) m * n, 1f, 0f);
            }
        } finally {
            if (ea != a) ea.release();
            if (eb != b) eb.release();
        }
        return out;
    }

    /** Whether {@code t} holds a single matrix (used for every batch entry with stride 0). */
    private static boolean isShared(Tensor t, long count) {
        return count > 1 && t.numel() == (long) t.dim(-2) * t.dim(-1);
    }

    /** {@code t} itself when its batch is the full batch or a single matrix; else a copy expanded to the full batch. */
    private static Tensor expandBatch(Tensor t, int[] batch) {
        long own = t.numel() / Math.max(1, (long) t.dim(-2) * t.dim(-1));
        long full = Shape.of(batch).numel();
        if (t.dim(-2) * (long) t.dim(-1) == 0 || own == full || own == 1) return t;
        int[] shape = Arrays.copyOf(batch, batch.length + 2);
        shape[batch.length] = t.dim(-2);
        shape[batch.length + 1] = t.dim(-1);
        return t.expand(shape);
    }
}
