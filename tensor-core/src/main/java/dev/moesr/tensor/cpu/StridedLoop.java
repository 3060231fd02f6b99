package dev.moesr.tensor.cpu;

import java.util.ArrayList;
import java.util.List;

/**
 * Walks an n-d index space over several strided operands, row by row. Adjacent dimensions
 * that are contiguous for every operand are merged first, so same-shape and simple broadcast
 * cases become a few long rows.
 */
final class StridedLoop {
    /** One row: {@code count} elements, operand k starting at {@code offsets[k]} and advancing by {@code steps[k]}. */
    @FunctionalInterface
    interface Row {
        void run(long[] offsets, long[] steps, int count);
    }

    final int[] shape;
    final long[][] strides;

    private StridedLoop(int[] shape, long[][] strides) {
        this.shape = shape;
        this.strides = strides;
    }

    /** Broadcast strides of a row-major {@code in} shape (padded to out's rank) read at {@code out} indices. */
    static long[] broadcastStrides(int[] in, int[] out) {
        if (in.length != out.length) throw new IllegalArgumentException("rank mismatch in broadcast");
        long[] s = new long[in.length];
        long acc = 1;
        for (int i = in.length - 1; i >= 0; i--) {
            if (in[i] != out[i] && in[i] != 1) throw new IllegalArgumentException("cannot broadcast dimension " + in[i] + " to " + out[i]);
            s[i] = in[i] == 1 ? 0 : acc;
            acc *= in[i];
        }
        return s;
    }

    static long[] contiguousStrides(int[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Builds the loop, merging dimensions; strides[k] are operand k's strides over {@code shape}. */
    static StridedLoop of(int[] shape, long[]... strides) {
        List<Integer> dims = new ArrayList<>();
        List<long[]> st = new ArrayList<>();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1) continue;
            long[] col = new long[strides.length];
            for (int k = 0; k < strides.length; k++) col[k] = strides[k][i];
            if (!dims.isEmpty()) {
                int last = dims.size() - 1;
                long[] prev = st.get(last);
                boolean merge = true;
                for (int k = 0; k < strides.length; k++) {
                    if (prev[k] != col[k] * shape[i]) { merge = false; break; }
                }
                if (merge) {
                    dims.set(last, dims.get(last) * shape[i]);
                    st.set(last, col);
                    continue;
                }
            }
            dims.add(shape[i]);
            st.add(col);
        }
        for (int d : shape) if (d == 0) { dims.clear(); dims.add(0); st.clear(); st.add(new long[strides.length]); break; }
        if (dims.isEmpty()) {
            dims.add(1);
            st.add(new long[strides.length]);
        }
        int r = dims.size();
        int[] s = new int[r];
        long[][] out = new long[strides.length][r];
        for (int i = 0; i < r; i++) {
            s[i] = dims.get(i);
            for (int k = 0; k < strides.length; k++) out[k][i] = st.get(i)[k];
        }
        return new StridedLoop(s, out);
    }

    /** Number of rows (the product of all merged dimensions but the last). */
    int rows() {
        long n = 1;
        for (int i = 0; i < shape.length - 1; i++) n *= shape[i];
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("too many rows");
        return (int) n;
    }

    int rowLength() { return shape[shape.length - 1]; }

    /** Runs rows [from, to), in parallel when worthwhile, with base offsets added per operand. */
    void run(long[] base, Row body) {
        int rows = rows();
        int len = rowLength();
        if (len == 0) return;
        int grain = Math.max(1, 32768 / len);
        Parallel.forRange(rows, grain, (from, to) -> {
            int n = strides.length;
            long[] steps = new long[n];
            long[] offs = new long[n];
            int last = shape.length - 1;
            for (int k = 0; k < n; k++) steps[k] = strides[k][last];
            for (int r = from; r < to; r++) {
                int rem = r;
                for (int k = 0; k < n; k++) offs[k] = base[k];
                for (int d = last - 1; d >= 0; d--) {
                    int idx = rem % shape[d];
                    rem /= shape[d];
                    for (int k = 0; k < n; k++) offs[k] += idx * strides[k][d];
                }
                body.run(offs, steps, len);
            }
        });
    }
}
