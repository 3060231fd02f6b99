package dev.moesr.tensor.cpu;

/**
 * Index select, gather and their adjoints. Indices arrive as floats holding whole numbers;
 * each is checked (integral, in range) before anything is written.
 */
final class CpuIndex {
    private CpuIndex() {}

    static void indexSelect(CpuStorage x, int outer, int axis, int inner, CpuStorage index, int indexCount, CpuStorage out) {
        int[] idx = indices(index, indexCount, axis, "index select");
        float[] xv = x.data, ov = out.data;
        Parallel.forRange(outer, Math.max(1, 16384 / Math.max(1, indexCount * inner)), (from, to) -> {
            for (int o = from; o < to; o++) {
                int src = x.base + o * axis * inner, dst = out.base + o * indexCount * inner;
                for (int j = 0; j < indexCount; j++) System.arraycopy(xv, src + idx[j] * inner, ov, dst + j * inner, inner);
            }
        });
    }

    static void indexSelectBackward(CpuStorage gradOut, int outer, int axis, int inner, CpuStorage index, int indexCount, CpuStorage gradX) {
        int[] idx = indices(index, indexCount, axis, "index select backward");
        float[] gv = gradOut.data, xv = gradX.data;
        // each outer slab of gradX is written by one task only, so repeated indices accumulate without races
        Parallel.forRange(outer, Math.max(1, 16384 / Math.max(1, indexCount * inner)), (from, to) -> {
            for (int o = from; o < to; o++) {
                int dst = gradX.base + o * axis * inner, src = gradOut.base + o * indexCount * inner;
                java.util.Arrays.fill(xv, dst, dst + axis * inner, 0f);
                for (int j = 0; j < indexCount; j++) {
                    int d = dst + idx[j] * inner, s = src + j * inner;
                    for (int i = 0; i < inner; i++) xv[d + i] += gv[s + i];
                }
            }
        });
    }

    static void gather(CpuStorage x, int[] xShape, int dim, CpuStorage index, int[] indexShape, CpuStorage out) {
        Layout l = new Layout(xShape, dim, indexShape);
        int[] idx = indices(index, l.count, xShape[dim], "gather");
        float[] xv = x.data, ov = out.data;
        Parallel.forRange(l.outer, Math.max(1, 16384 / Math.max(1, l.perOuter)), (from, to) -> {
            for (int o = from; o < to; o++) {
                for (int p = o * l.perOuter, end = p + l.perOuter; p < end; p++) ov[out.base + p] = xv[x.base + l.source(p, idx[p])];
            }
        });
    }

    static void gatherBackward(CpuStorage gradOut, int[] indexShape, int dim, CpuStorage index, int[] xShape, CpuStorage gradX) {
        Layout l = new Layout(xShape, dim, indexShape);
        int[] idx = indices(index, l.count, xShape[dim], "gather backward");
        float[] gv = gradOut.data, xv = gradX.data;
        java.util.Arrays.fill(xv, gradX.base, gradX.base + (int) gradX.length(), 0f);
        // positions that share the dimensions before dim stay in one task: no two tasks write the same place
        Parallel.forRange(l.outer, Math.max(1, 16384 / Math.max(1, l.perOuter)), (from, to) -> {
            for (int o = from; o < to; o++) {
                for (int p = o * l.perOuter, end = p + l.perOuter; p < end; p++) xv[gradX.base + l.source(p, idx[p])] += gv[gradOut.base + p];
            }
        });
    }

    /** Where gather position p of the index tensor reads x. */
    private static final class Layout {
        final int rank, dim, count, outer, perOuter;
        final int[] indexShape;
        final long[] xStrides;

        Layout(int[] xShape, int dim, int[] indexShape) {
            this.rank = xShape.length;
            this.dim = dim;
            this.indexShape = indexShape;
            this.xStrides = StridedLoop.contiguousStrides(xShape);
            long n = 1, o = 1;
            for (int i = 0; i < rank; i++) {
                n *= indexShape[i];
                if (i < dim) o *= indexShape[i];
            }
            this.count = (int) n;
            this.outer = (int) o;
            this.perOuter = o == 0 ? 0 : (int) (n / o);
        }

        /** The flat x offset for flat index position p whose index value is k. */
        int source(int p, int k) {
            long off = 0;
            for (int d = rank - 1; d >= 0; d--) {
                int i = p % indexShape[d];
                p /= indexShape[d];
                off += (long) (d == dim ? k : i) * xStrides[d];
            }
            return (int) off;
        }
    }

    /** The indices as ints, each checked to be a whole number in [0, size). */
    private static int[] indices(CpuStorage index, int count, int size, String op) {
        int[] out = new int[count];
        for (int j = 0; j < count; j++) {
            float v = index.data[index.base + j];
            if (!(v >= 0 && v < size) || v != Math.rint(v)) {
                throw new IllegalArgumentException(op + ": index " + v + " at position " + j + " is not a whole number in [0, " + size
                        + "); indices must address the " + size + " entries of the indexed dimension");
            }
            out[j] = (int) v;
        }
        return out;
    }
}
