package dev.moesr.tensor.ops;

import dev.moesr.tensor.DType;
import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.backend.Storage;

import java.util.Arrays;

/**
 * Differentiable shape operations. Only reshape (and what is built on it) and slices along
 * dimension 0 share storage; everything else is a strided copy through
 * {@link dev.moesr.tensor.backend.Backend#copy}. Copies work on floats, so complex tensors
 * go through the same code.
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

    // ---- raw building blocks (no graph): boxes cut out of and put into tensors --------------

    /** A new tensor holding the box of x that starts at {@code starts} and has size {@code sizes}. Records nothing. */
    static Tensor crop(Tensor x, int[] starts, int[] sizes) {
        Tensor out = Tensor.empty(x.backend(), x.dtype(), sizes);
        if (out.numel() == 0) return out;
        long[] st = x.shape().strides();
        long offset = 0;
        for (int i = 0; i < starts.length; i++) offset += starts[i] * st[i];
        copyInto(x, st, offset, out, out.shape().strides(), 0, sizes);
        return out;
    }

    /** A new tensor of {@code outShape} filled with {@code value}, with x copied in at {@code starts}. Records nothing. */
    static Tensor embed(Tensor x, int[] outShape, int[] starts, float value) {
        Tensor out = Tensor.empty(x.backend(), x.dtype(), outShape);
        fillConstant(out, value);
        if (x.numel() == 0) return out;
        long[] st = out.shape().strides();
        long offset = 0;
        for (int i = 0; i < starts.length; i++) offset += starts[i] * st[i];
        copyInto(x, x.shape().strides(), 0, out, st, offset, x.dims());
        return out;
    }

    /** Fills t with value; a complex tensor gets value + 0i (as PyTorch pads complex tensors). */
    private static void fillConstant(Tensor t, float value) {
        if (t.dtype() == DType.F32 || value == 0) {
            t.backend().fill(t.storage(), value);
            return;
        }
        Tensor one = Tensor.wrap(t.backend().upload(new float[] {value, 0}), Shape.of(), DType.C64);
        try {
            copyInto(one, new long[t.rank()], 0, t, t.shape().strides(), 0, t.dims());
        } finally {
            one.release();
        }
    }

    /** A complex tensor seen as real [..., 2] (shares storage), like torch.view_as_real. */
    static Tensor viewAsReal(Tensor z) {
        int[] d = Arrays.copyOf(z.dims(), z.rank() + 1);
        d[z.rank()] = 2;
        Tensor out = Tensor.wrap(z.storage().view(0, z.storage().length()), Shape.of(d), DType.F32);
        return out.recordedAs("view_as_real", g -> new Tensor[] {viewAsComplex(g)}, z);
    }

    /** A real [..., 2] tensor seen as complex [...] (shares storage), like torch.view_as_complex. */
    static Tensor viewAsComplex(Tensor r) {
        if (r.isComplex() || r.rank() == 0 || r.dim(-1) != 2) {
            throw new IllegalArgumentException("view as complex needs a real tensor whose last dimension is 2, got " + r.dtype() + r.shape());
        }
        int[] d = Arrays.copyOf(r.dims(), r.rank() - 1);
        Tensor out = Tensor.wrap(r.storage().view(0, r.storage().length()), Shape.of(d), DType.C64);
        return out.recordedAs("view_as_complex", g -> new Tensor[] {viewAsReal(g)}, r);
    }

    // ---- slicing and joining --------------------------------------------------------------

    /**
     * Elements start..end-1 along dim; negative indices count from the end. Out-of-range bounds
     * are an error rather than clamped. A slice along dimension 0 is a view sharing x's storage.
     */
    public static Tensor slice(Tensor x, int dim, int start, int end) {
        if (x.rank() == 0) throw new IllegalArgumentException("cannot slice a scalar");
        int a = x.shape().axis(dim);
        int size = x.dim(a);
        int s = start < 0 ? start + size : start;
        int e = end < 0 ? end + size : end;
        if (s < 0 || e > size || s > e) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") is out of range for dimension " + dim + " (size " + size
                    + ") of " + x.shape() + "; bounds must satisfy -size <= start <= end <= size (negative values count from the end)");
        }
        int[] outShape = x.dims();
        outShape[a] = e - s;
        int[] starts = new int[x.rank()];
        starts[a] = s;
        Tensor out;
        if (a == 0) {
            long row = x.numel() / Math.max(1, size) * x.dtype().floats;
            out = Tensor.wrap(x.storage().view(s * row, (e - s) * row), Shape.of(outShape), x.dtype());
        } else {
            out = crop(x, starts, outShape);
        }
        return out.recordedAs("slice", g -> new Tensor[] {embed(g, x.dims(), starts, 0f)}, x);
    }

    /** {@code parts} equal slices along dim; the size there must divide evenly. */
    public static Tensor[] chunk(Tensor x, int parts, int dim) {
        if (x.rank() == 0) throw new IllegalArgumentException("cannot chunk a scalar");
        int a = x.shape().axis(dim);
        int size = x.dim(a);
        if (parts < 1 || size % parts != 0) {
            throw new IllegalArgumentException("dimension " + dim + " of " + x.shape() + " (size " + size + ") does not split into "
                    + parts + " equal parts; use slice for uneven pieces");
        }
        int step = size / parts;
        Tensor[] out = new Tensor[parts];
        for (int i = 0; i < parts; i++) out[i] = slice(x, a, i * step, (i + 1) * step);
        return out;
    }

    /** Joins tensors along an existing dimension; their other dimensions, device and dtype must agree. */
    public static Tensor cat(int dim, Tensor... ts) {
        if (ts == null || ts.length == 0) throw new IllegalArgumentException("cat needs at least one tensor");
        Tensor first = ts[0];
        if (first.rank() == 0) throw new IllegalArgumentException("cat cannot join scalars; unsqueeze them first or use stack");
        int a = first.shape().axis(dim);
        int total = 0;
        for (int k = 0; k < ts.length; k++) {
            Tensor t = ts[k];
            if (t.backend() != first.backend() || t.dtype() != first.dtype()) {
                throw new IllegalArgumentException("cat: tensor " + k + " is " + t.dtype() + " on " + t.device() + " but tensor 0 is "
                        + first.dtype() + " on " + first.device() + "; convert them first");
            }
            boolean match = t.rank() == first.rank();
            for (int i = 0; match && i < t.rank(); i++) match = i == a || t.dim(i) == first.dim(i);
            if (!match) {
                throw new IllegalArgumentException("cat along dimension " + dim + ": tensor " + k + " has shape " + t.shape()
                        + " but tensor 0 has " + first.shape() + "; shapes must match except along the joined dimension");
            }
            total += t.dim(a);
        }
        int[] outShape = first.dims();
        outShape[a] = total;
        Tensor out = Tensor.empty(first.backend(), first.dtype(), outShape);
        long[] outStrides = out.shape().strides();
        int[] offsets = new int[ts.length];
        int at = 0;
        for (int k = 0; k < ts.length; k++) {
            offsets[k] = at;
            if (ts[k].numel() > 0) copyInto(ts[k], ts[k].shape().strides(), 0, out, outStrides, at * outStrides[a], ts[k].dims());
            at += ts[k].dim(a);
        }
        Tensor[] inputs = ts.clone();
        return out.recordedAs("cat", g -> {
            Tensor[] grads = new Tensor[inputs.length];
            for (int k = 0; k < inputs.length; k++) {
                if (!inputs[k].needsGrad()) continue;
                int[] starts = new int[g.rank()];
                starts[a] = offsets[k];
                grads[k] = crop(g, starts, inputs[k].dims());
            }
            return grads;
        }, inputs);
    }

    /** Joins equally shaped tensors along a new dimension {@code dim} (in [-rank-1, rank]). */
    public static Tensor stack(int dim, Tensor... ts) {
        if (ts == null || ts.length == 0) throw new IllegalArgumentException("stack needs at least one tensor");
        Shape shape = ts[0].shape();
        for (int k = 1; k < ts.length; k++) {
            if (!ts[k].shape().equals(shape)) {
                throw new IllegalArgumentException("stack: tensor " + k + " has shape " + ts[k].shape() + " but tensor 0 has " + shape
                        + "; stacked tensors must have equal shapes");
            }
        }
        int r = shape.rank() + 1;
        if (dim < -r || dim >= r) throw new IllegalArgumentException("stack dimension " + dim + " out of range for " + r + "-d result");
        Tensor[] lifted = new Tensor[ts.length];
        for (int k = 0; k < ts.length; k++) lifted[k] = unsqueeze(ts[k], dim);
        return cat(dim, lifted);
    }

    /**
     * Constant padding. {@code pads} holds (before, after) pairs from the last dimension
     * backwards, as torch.nn.functional.pad: {left, right, top, bottom} pads W then H.
     */
    public static Tensor pad(Tensor x, int[] pads, float value) {
        if (pads == null || pads.length % 2 != 0 || pads.length > 2 * x.rank()) {
            throw new IllegalArgumentException("pad needs (before, after) pairs for at most " + x.rank() + " dimensions of " + x.shape()
                    + ", got " + Arrays.toString(pads));
        }
        int[] outShape = x.dims();
        int[] starts = new int[x.rank()];
        for (int i = 0; i < pads.length / 2; i++) {
            int before = pads[2 * i], after = pads[2 * i + 1];
            if (before < 0 || after < 0) {
                throw new IllegalArgumentException("negative padding " + Arrays.toString(pads) + " is not supported; crop with slice instead");
            }
            int d = x.rank() - 1 - i;
            outShape[d] += before + after;
            starts[d] = before;
        }
        Tensor out = embed(x, outShape, starts, value);
        return out.recordedAs("pad", g -> new Tensor[] {crop(g, starts, x.dims())}, x);
    }

    // ---- image resampling -----------------------------------------------------------------

    private static void requireImage(Tensor x, String op) {
        if (x.rank() != 4) throw new IllegalArgumentException(op + " takes an NCHW tensor (rank 4), got shape " + x.shape());
    }

    /** Nearest-neighbour upsampling of NCHW input: each pixel becomes a scale x scale block. */
    public static Tensor upsampleNearest(Tensor x, int scale) {
        requireImage(x, "upsampleNearest");
        if (scale < 1) throw new IllegalArgumentException("upsampling scale must be a positive integer, got " + scale);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), s = scale;
        Tensor out = Tensor.empty(x.backend(), x.dtype(), n, c, h * s, w * s);
        // one strided copy, looping (plane, row, i, j, column) so that the innermost run is a whole input row
        int[] loop = {n * c, h, s, s, w};
        long[] src = {(long) h * w, w, 0, 0, 1};
        long[] dst = {(long) h * s * w * s, (long) s * w * s, (long) w * s, 1, s};
        if (out.numel() > 0) copyInto(x, src, 0, out, dst, 0, loop);
        return out.recordedAs("upsample_nearest", g -> new Tensor[] {sumBlocks(g, n, c, h, w, s)}, x);
    }

    /** The adjoint of upsampling: each s x s block of g summed into one pixel (complex g through its real view). */
    private static Tensor sumBlocks(Tensor g, int n, int c, int h, int w, int s) {
        if (g.isComplex()) return viewAsComplex(viewAsReal(g).reshape(n, c, h, s, w, s, 2).sum(new int[] {3, 5}, false));
        return g.reshape(n, c, h, s, w, s).sum(new int[] {3, 5}, false);
    }

    /** [N, C*r*r, H, W] to [N, C, H*r, W*r]: channel (i, j) of each group goes to offset (i, j) in an r x r block. */
    public static Tensor pixelShuffle(Tensor x, int r) {
        requireImage(x, "pixelShuffle");
        if (r < 1) throw new IllegalArgumentException("pixel shuffle factor must be a positive integer, got " + r);
        int n = x.dim(0), cr = x.dim(1), h = x.dim(2), w = x.dim(3);
        if (cr % (r * r) != 0) {
            throw new IllegalArgumentException("pixelShuffle(" + r + ") needs channels divisible by " + (r * r) + ", got shape " + x.shape());
        }
        int c = cr / (r * r);
        return x.reshape(n, c, r, r, h, w).permute(0, 1, 4, 2, 5, 3).reshape(n, c, h * r, w * r);
    }

    /** [N, C, H*r, W*r] to [N, C*r*r, H, W], the inverse of {@link #pixelShuffle}. */
    public static Tensor pixelUnshuffle(Tensor x, int r) {
        requireImage(x, "pixelUnshuffle");
        if (r < 1) throw new IllegalArgumentException("pixel unshuffle factor must be a positive integer, got " + r);
        int n = x.dim(0), c = x.dim(1), hr = x.dim(2), wr = x.dim(3);
        if (hr % r != 0 || wr % r != 0) {
            throw new IllegalArgumentException("pixelUnshuffle(" + r + ") needs height and width divisible by " + r + ", got shape " + x.shape());
        }
        int h = hr / r, w = wr / r;
        return x.reshape(n, c, h, r, w, r).permute(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h, w);
    }
}
