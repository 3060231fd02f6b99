package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Storage;

import java.util.Arrays;

/**
 * Differentiable shape operations. Only reshape (and what is built on it) shares storage;
 * everything else is a strided copy through {@link dev.moesr.tensor.backend.Backend#copy}.
 */
public final class ShapeOps {
    private ShapeOps() {}

    /** Strides in floats of a contiguous tensor of this shape and dtype, with a trailing (re, im) axis for complex. */
    static long[] floatStrides(int[] shape, DType dtype) {
        long[] s = new long[shape.length + (dtype == DType.C64 ? 1 : 0)];
        long acc = dtype.floats;
        if (dtype == DType.C64) s[shape.length] = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** The copy shape for a tensor shape: with the trailing 2 for complex. */
    static int[] floatShape(int[] shape, DType dtype) {
        if (dtype == DType.F32) return shape;
        int[] d = Arrays.copyOf(shape, shape.length + 1);
        d[shape.length] = 2;
        return d;
    }

    /** Strided copy: out (contiguous, shape {@code outShape}) gets x read with {@code srcStrides} over outShape (element units, no complex axis). */
    static void copyInto(Tensor x, long[] srcStrides, long srcOffset, Tensor out, long[] dstStrides, long dstOffset, int[] shape) {
        int f = x.dtype().floats;
        long[] ss = new long[shape.length + (f == 2 ? 1 : 0)];
        long[] ds = new long[ss.length];
        for (int i = 0; i < shape.length; i++) {
            ss[i] = srcStrides[i] * f;
            ds[i] = dstStrides[i] * f;
        }
        if (f == 2) {
            ss[shape.length] = 1;
            ds[shape.length] = 1;
        }
        Storage src = window(x.storage(), srcOffset * f);
        Storage dst = window(out.storage(), dstOffset * f);
        try {
            x.backend().copy(src, ss, dst, ds, floatShape(shape, x.dtype()));
        } finally {
            if (src != x.storage()) src.release();
            if (dst != out.storage()) dst.release();
        }
    }

    /** The storage from {@code offset} on: itself at 0, else a temporary view the caller releases. */
    static Storage window(Storage s, long offset) {
        return offset == 0 ? s : s.view(offset, s.length() - offset);
    }

    public static Tensor reshape(Tensor x, int[] newShape) {
        int[] s = newShape.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("only one dimension may be -1 in reshape " + Arrays.toString(newShape));
                infer = i;
            } else {
                if (s[i] < 0) throw new IllegalArgumentException("negative size in reshape " + Arrays.toString(newShape));
                known *= s[i];
            }
        }
        if (infer >= 0) {
            if (known == 0 || x.numel() % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + x.shape() + " to " + Arrays.toString(newShape));
            }
            s[infer] = (int) (x.numel() / known);
        }
        Shape ns = Shape.of(s);
        if (ns.numel() != x.numel()) {
            throw new IllegalArgumentException("cannot reshape " + x.shape() + " (" + x.numel() + " elements) to " + ns + " (" + ns.numel() + ")");
        }
        Tensor out = Tensor.wrap(x.storage().view(0, x.storage().length()), ns, x.dtype());
        return out.recordedAs("reshape", g -> new Tensor[] {g.reshape(x.dims())}, x);
    }

    public static Tensor flatten(Tensor x, int start, int end) {
        int a = x.shape().axis(start), b = x.shape().axis(end);
        if (a > b) throw new IllegalArgumentException("flatten start " + start + " is after end " + end);
        int[] d = x.dims();
        int[] out = new int[d.length - (b - a)];
        int j = 0;
        for (int i = 0; i < a; i++) out[j++] = d[i];
        int merged = 1;
        for (int i = a; i <= b; i++) merged *= d[i];
        out[j++] = merged;
        for (int i = b + 1; i < d.length; i++) out[j++] = d[i];
        return reshape(x, out);
    }

    public static Tensor unsqueeze(Tensor x, int dim) {
        int r = x.rank() + 1;
        int a = dim < 0 ? dim + r : dim;
        if (a < 0 || a >= r) throw new IllegalArgumentException("unsqueeze dimension " + dim + " out of range for rank " + x.rank());
        int[] d = new int[r];
        for (int i = 0, j = 0; i < r; i++) d[i] = i == a ? 1 : x.dim(j++);
        return reshape(x, d);
    }

    public static Tensor squeeze(Tensor x, int dim) {
        int a = x.shape().axis(dim);
        if (x.dim(a) != 1) throw new IllegalArgumentException("cannot squeeze dimension " + dim + " of size " + x.dim(a) + " in " + x.shape());
        int[] d = new int[x.rank() - 1];
        for (int i = 0, j = 0; i < x.rank(); i++) if (i != a) d[j++] = x.dim(i);
        return reshape(x, d);
    }

    public static Tensor permute(Tensor x, int[] order) {
        int r = x.rank();
        if (order.length != r) throw new IllegalArgumentException("permute order " + Arrays.toString(order) + " does not match rank " + r);
        int[] perm = new int[r];
        boolean[] seen = new boolean[r];
        for (int i = 0; i < r; i++) {
            perm[i] = x.shape().axis(order[i]);
            if (seen[perm[i]]) throw new IllegalArgumentException("permute order " + Arrays.toString(order) + " repeats a dimension");
            seen[perm[i]] = true;
        }
        long[] inStrides = x.shape().strides();
        int[] outShape = new int[r];
        long[] src = new long[r];
        for (int i = 0; i < r; i++) {
            outShape[i] = x.dim(perm[i]);
            src[i] = inStrides[perm[i]];
        }
        Tensor out = Tensor.empty(x.backend(), x.dtype(), outShape);
        copyInto(x, src, 0, out, out.shape().strides(), 0, outShape);
        int[] inverse = new int[r];
        for (int i = 0; i < r; i++) inverse[perm[i]] = i;
        return out.recordedAs("permute", g -> new Tensor[] {permute(g, inverse)}, x);
    }

    public static Tensor transpose(Tensor x, int a, int b) {
        int[] order = new int[x.rank()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        int i = x.shape().axis(a), j = x.shape().axis(b);
        order[i] = j;
        order[j] = i;
        return permute(x, order);
    }

    public static Tensor expand(Tensor x, int[] newShape) {
        int r = newShape.length;
        if (r < x.rank()) throw new IllegalArgumentException("cannot expand " + x.shape() + " to fewer dimensions " + Arrays.toString(newShape));
        int[] in = x.shape().padLeft(r);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            out[i] = newShape[i] == -1 ? in[i] : newShape[i];
            if (in[i] != out[i] && in[i] != 1) {
                throw new IllegalArgumentException("cannot expand " + x.shape() + " to " + Arrays.toString(newShape) + ": dimension " + i + " has size " + in[i]);
            }
        }
        long[] src = new long[r];
        long acc = 1;
        for (int i = r - 1; i >= 0; i--) {
            src[i] = in[i] == 1 ? 0 : acc;
            acc *= in[i];
        }
        Tensor res = Tensor.empty(x.backend(), x.dtype(), out);
        copyInto(x, src, 0, res, res.shape().strides(), 0, out);
        return res.recordedAs("expand", g -> new Tensor[] {Reductions.sumTo(g, x.shape())}, x);
    }

    public static Tensor slice(Tensor x, int dim, int start, int end) {
        throw new UnsupportedOperationException("slice not written yet");
    }

    public static Tensor[] chunk(Tensor x, int parts, int dim) {
        throw new UnsupportedOperationException("chunk not written yet");
    }

    public static Tensor cat(int dim, Tensor... ts) {
        throw new UnsupportedOperationException("cat not written yet");
    }

    public static Tensor stack(int dim, Tensor... ts) {
        throw new UnsupportedOperationException("stack not written yet");
    }

    public static Tensor pad(Tensor x, int[] pads, float value) {
        throw new UnsupportedOperationException("pad not written yet");
    }

    public static Tensor upsampleNearest(Tensor x, int scale) {
        throw new UnsupportedOperationException("upsample not written yet");
    }

    public static Tensor pixelShuffle(Tensor x, int r) {
        throw new UnsupportedOperationException("pixel shuffle not written yet");
    }

    public static Tensor pixelUnshuffle(Tensor x, int r) {
        throw new UnsupportedOperationException("pixel unshuffle not written yet");
    }
}
