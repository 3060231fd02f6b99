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
        if ((op == ReduceOp.ARGMIN || op == ReduceOp.ARGMAX) && reduced[r - 1] && redCount > 0) {
            argLastDim(op == ReduceOp.ARGMIN, xv, xb, ov, ob, (int) outCount, (int) redCount);
            return;
        }
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

    /**
     * ARGMIN / ARGMAX along the last (contiguous) dimension: one tight loop per row (the
     * quantiser's nearest-code search runs this over rows of thousands of distances). Same
     * result as the general loop: the first extreme wins ties, and the first NaN wins over all.
     */
    private static void argLastDim(boolean min, float[] xv, int xb, float[] ov, int ob, int rows, int len) {
        Parallel.forRange(rows, Math.max(1, 65536 / len), (from, to) -> {
            for (int row = from; row < to; row++) {
                int at = xb + row * len, best = 0;
                float b = xv[at];
                if (b == b) {
                    for (int k = 1; k < len; k++) {
                        float v = xv[at + k];
                        if (min ? v < b : v > b) {
                            b = v;
                            best = k;
                        } else if (v != v) {
                            best = k;
                            break;
                        }
                    }
                }
                ov[ob + row] = best;
            }
        });
    }

    /**
     * Row-wise softmax of a rows x cols matrix. The row maximum is subtracted before exp so that
     * large inputs do not overflow; exp is a float exponential ({@link ExpKernel}) and the
     * normaliser is summed in double.
     */
    static void softmax(CpuStorage x, CpuStorage out, int rows, int cols, boolean log) {
        float[] xv = x.data, ov = out.data;
        int xb = x.base, ob = out.base;
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(1, cols)), (from, to) -> {
            for (int r = from; r < to; r++) {
                int xi = xb + r * cols, oi = ob + r * cols;
                float max = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < cols; c++) max = Math.max(max, xv[xi + c]);
                // a row of -inf (fully masked) would give NaN from (-inf) - (-inf); shift by 0 instead
                double shift = max == Float.NEGATIVE_INFINITY ? 0 : max;
                double sum = 0;
                if (log) {
                    for (int c = 0; c < cols; c++) sum += Math.exp(xv[xi + c] - shift);
                    // (x - max) - log(sum), not x - (max + log(sum)): the latter loses log(sum) next to a large max
                    double logSum = Math.log(sum);
                    for (int c = 0; c < cols; c++) ov[oi + c] = (float) ((xv[xi + c] - shift) - logSum);
                } else {
                    // exp once per element (float, vectorised): park it in the output, then scale
                    sum = ExpKernel.best().expShifted(xv, xi, ov, oi, cols, (float) shift);
                    float inv = (float) (1 / sum);
                    for (int c = 0; c < cols; c++) ov[oi + c] *= inv;
                }
            }
        });
    }

    /**
     * Gradient of {@link #softmax} from its output y: softmax gives g_in = y * (g - sum(g * y)),
     * log-softmax gives g_in = g - exp(y) * sum(g).
     */
    static void softmaxBackward(CpuStorage y, CpuStorage gradOut, CpuStorage gradIn, int rows, int cols, boolean log) {
        float[] yv = y.data, gv = gradOut.data, ov = gradIn.data;
        int yb = y.base, gb = gradOut.base, ob = gradIn.base;
        Parallel.forRange(rows, Math.max(1, 16384 / Math.max(1, cols)), (from, to) -> {
            for (int r = from; r < to; r++) {
                int yi = yb + r * cols, gi = gb + r * cols, oi = ob + r * cols;
                double dot = 0;
                if (log) {
                    for (int c = 0; c < cols; c++) dot += gv[gi + c];
                    for (int c = 0; c < cols; c++) ov[oi + c] = (float) (gv[gi + c] - Math.exp(yv[yi + c]) * dot);
                } else {
                    for (int c = 0; c < cols; c++) dot += (double) gv[gi + c] * yv[yi + c];
                    for (int c = 0; c < cols; c++) ov[oi + c] = (float) (yv[yi + c] * (gv[gi + c] - dot));
                }
            }
        });
    }
}
