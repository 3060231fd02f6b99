package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.ReduceOp;

/** Reductions over chosen dimensions, and row softmax. Sums accumulate in double. */
final class CpuReduce {
    private CpuReduce() {}

    static void reduce(ReduceOp op, CpuStorage x, int[] shape, boolean[] reduced, CpuStorage out) {
        int r = shape.length;
        if ((op == ReduceOp.ARGMAX || op == ReduceOp.ARGMIN)) {
            int count = 0;
            for (boolean b : reduced) if (b) count++;
            if (count != 1) throw new IllegalArgumentException(op + " reduces exactly one dimension");
        }
        // Output position = kept dims; the reduced dims are walked for each output element.
        int[] keptShape = new int[r];
        int[] redShape = new int[r];
        long[] inStrides = StridedLoop.contiguousStrides(shape);
        long outCount = 1, redCount = 1;
        for (int i = 0; i < r; i++) {
            keptShape[i] = reduced[i] ? 1 : shape[i];
            redShape[i] = reduced[i] ? shape[i] : 1;
            outCount *= keptShape[i];
            redCount *= redShape[i];
        }
        float[] xv = x.data, ov = out.data;
        int xb = x.base, ob = out.base;
        final long nRed = redCount;
        // walk the reduced sub-space with a merged strided loop (same for every output element)
        StridedLoop inner = StridedLoop.of(redShape, inStrides);
        int innerRows = inner.rows();
        int innerLen = inner.rowLength();
        long[] innerStep = inner.strides[0];
        int[] innerShape = inner.shape;
        Parallel.forRange((int) outCount, Math.max(1, (int) (65536 / Math.max(1, nRed))), (from, to) -> {
            for (int o = from; o < to; o++) {
                // input offset of this output element
                long rem = o, base = xb;
                for (int d = r - 1; d >= 0; d--) {
                    long idx = rem % keptShape[d];
                    rem /= keptShape[d];
                    base += idx * inStrides[d];
                }
                double sum = 0;
                float best = op == ReduceOp.MAX || op == ReduceOp.ARGMAX ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
                long bestAt = -1, pos = 0;
                boolean nan = false;
                int last = innerShape.length - 1;
                int step = (int) innerStep[last];
                for (int row = 0; row < innerRows; row++) {
                    long rr = row, off = base;
                    for (int d = last - 1; d >= 0; d--) {
                        long idx = rr % innerShape[d];
                        rr /= innerShape[d];
                        off += idx * innerStep[d];
                    }
                    int i = (int) off;
                    for (int k = 0; k < innerLen; k++, i += step, pos++) {
                        float v = xv[i];
                        switch (op) {
                            case SUM -> sum += v;
                            case MAX, ARGMAX -> {
                                if (v > best || (bestAt < 0 && !(v < best))) { best = v; bestAt = pos; }
                                if (v != v && !nan) { nan = true; best = v; bestAt = pos; }
                            }
                            case MIN, ARGMIN -> {
                                if (v < best || (bestAt < 0 && !(v > best))) { best = v; bestAt = pos; }
                                if (v != v && !nan) { nan = true; best = v; bestAt = pos; }
                            }
                        }
                    }
                }
                ov[ob + o] = switch (op) {
                    case SUM -> (float) sum;
                    case MAX, MIN -> nRed == 0 ? Float.NaN : best;
                    case ARGMAX, ARGMIN -> (float) Math.max(bestAt, 0);
                };
            }
        });
    }

    static void softmax(CpuStorage x, CpuStorage out, int rows, int cols, boolean log) {
        throw new UnsupportedOperationException("softmax not written yet");
    }

    static void softmaxBackward(CpuStorage y, CpuStorage gradOut, CpuStorage gradIn, int rows, int cols, boolean log) {
        throw new UnsupportedOperationException("softmax backward not written yet");
    }
}
