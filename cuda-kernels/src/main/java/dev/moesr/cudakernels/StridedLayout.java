package dev.moesr.cudakernels;

import java.util.Arrays;

/**
 * An n-d index space over several strided operands, in the form the kernels take: a shape and
 * per-operand strides of at most {@link #MAX_RANK} dimensions (the native Dims struct).
 * Size-1 dimensions are dropped and neighbours that are contiguous for every operand are merged
 * (as the CPU backend's StridedLoop does), so the row-major linear order of the index space is
 * kept and most layouts end up rank 1 or 2.
 */
final class StridedLayout {
    /** MOESR_MAX_RANK in native/common.cuh. */
    static final int MAX_RANK = 8;

    final int rank;
    /** Sizes, padded with zeros to MAX_RANK. */
    final long[] shape;
    /** strides[k]: operand k's strides, padded with zeros to MAX_RANK. */
    final long[][] strides;
    /** Number of index vectors (0 when a dimension is 0). */
    final long count;

    private StridedLayout(int rank, long[] shape, long[][] strides, long count) {
        this.rank = rank;
        this.shape = shape;
        this.strides = strides;
        this.count = count;
    }

    static StridedLayout of(int[] shape, long[]... strides) {
        for (long[] s : strides) {
            if (s.length != shape.length) {
                throw new IllegalArgumentException("strides " + Arrays.toString(s) + " do not match shape " + Arrays.toString(shape));
            }
        }
        long count = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative size in shape " + Arrays.toString(shape));
            count *= d;
        }
        int ops = strides.length;
        long[] dims = new long[shape.length];
        long[][] st = new long[ops][shape.length];
        int r = 0;
        if (count == 0) {
            dims[0] = 0;
            r = 1;
        } else {
            for (int i = 0; i < shape.length; i++) {
                if (shape[i] == 1) continue;
                boolean merge = r > 0;
                for (int k = 0; k < ops && merge; k++) merge = st[k][r - 1] == strides[k][i] * shape[i];
                if (merge) {
                    dims[r - 1] *= shape[i];
                    for (int k = 0; k < ops; k++) st[k][r - 1] = strides[k][i];
                } else {
                    dims[r] = shape[i];
                    for (int k = 0; k < ops; k++) st[k][r] = strides[k][i];
                    r++;
                }
            }
            if (r == 0) {   // a single element
                dims = new long[] {1};
                st = new long[ops][1];
                r = 1;
            }
        }
        if (r > MAX_RANK) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + r + " dimensions that cannot be merged;"
                    + " the CUDA kernels take at most " + MAX_RANK + " (reshape or make the tensor contiguous first)");
        }
        long[] paddedShape = Arrays.copyOf(dims, MAX_RANK);
        long[][] paddedStrides = new long[ops][];
        for (int k = 0; k < ops; k++) paddedStrides[k] = Arrays.copyOf(st[k], MAX_RANK);
        return new StridedLayout(r, paddedShape, paddedStrides, count);
    }

    /** Row-major strides of a contiguous tensor of this shape. */
    static long[] contiguousStrides(int[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Strides that read a contiguous {@code in} (padded to out's rank) at the indices of {@code out}: 0 where it broadcasts. */
    static long[] broadcastStrides(int[] in, int[] out) {
        if (in.length != out.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(in) + " must be padded to the rank of " + Arrays.toString(out));
        }
        long[] s = new long[in.length];
        long acc = 1;
        for (int i = in.length - 1; i >= 0; i--) {
            if (in[i] != out[i] && in[i] != 1) {
                throw new IllegalArgumentException("cannot broadcast " + Arrays.toString(in) + " to " + Arrays.toString(out));
            }
            s[i] = in[i] == 1 ? 0 : acc;
            acc *= in[i];
        }
        return s;
    }

    /** The offset of operand k at row-major linear index i (what moesr_offset computes on the GPU). */
    long offset(int k, long i) {
        long off = 0;
        for (int d = rank - 1; d >= 0; d--) {
            long q = i / shape[d];
            off += (i - q * shape[d]) * strides[k][d];
            i = q;
        }
        return off;
    }

    static long numel(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }
}
