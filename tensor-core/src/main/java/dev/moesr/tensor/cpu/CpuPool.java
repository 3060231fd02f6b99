package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.PoolGeometry;

/**
 * Max and average pooling over NCHW planes, one (n, c) plane per task. Windows are clipped to
 * the input; for max pooling the padding acts as -infinity, for average pooling as zeros that
 * count in the divisor (count_include_pad, PyTorch's default).
 */
final class CpuPool {
    private CpuPool() {}

    static void max(CpuStorage x, CpuStorage out, CpuStorage argmax, PoolGeometry g) {
        float[] xv = x.data, ov = out.data, av = argmax.data;
        int inPlane = g.inH() * g.inW(), outPlane = g.outH() * g.outW();
        forPlanes(g, (from, to) -> {
            for (int p = from; p < to; p++) {
                int xi = x.base + p * inPlane, o = out.base + p * outPlane, a = argmax.base + p * outPlane;
                for (int oh = 0; oh < g.outH(); oh++) {
                    int h0 = oh * g.strideH() - g.padH(), h1 = Math.min(h0 + g.kernelH(), g.inH());
                    h0 = Math.max(h0, 0);
                    for (int ow = 0; ow < g.outW(); ow++, o++, a++) {
                        int w0 = ow * g.strideW() - g.padW(), w1 = Math.min(w0 + g.kernelW(), g.inW());
                        w0 = Math.max(w0, 0);
                        float best = Float.NEGATIVE_INFINITY;
                        int bestAt = h0 * g.inW() + w0;
                        for (int h = h0; h < h1; h++) {
                            for (int w = w0; w < w1; w++) {
                                float v = xv[xi + h * g.inW() + w];
                                // NaN wins and stays, as in PyTorch
                                if (v > best || (v != v && best == best)) {
                                    best = v;
                                    bestAt = h * g.inW() + w;
                                }
                            }
                        }
                        ov[o] = best;
                        av[a] = bestAt;
                    }
                }
            }
        });
    }

    static void maxBackward(CpuStorage gradOut, CpuStorage argmax, CpuStorage gradX, PoolGeometry g) {
        float[] gv = gradOut.data, av = argmax.data, xv = gradX.data;
        int inPlane = g.inH() * g.inW(), outPlane = g.outH() * g.outW();
        forPlanes(g, (from, to) -> {
            for (int p = from; p < to; p++) {
                int xi = gradX.base + p * inPlane, o = gradOut.base + p * outPlane, a = argmax.base + p * outPlane;
                java.util.Arrays.fill(xv, xi, xi + inPlane, 0f);
                for (int k = 0; k < outPlane; k++) xv[xi + (int) av[a + k]] += gv[o + k];
            }
        });
    }

    static void avg(CpuStorage x, CpuStorage out, PoolGeometry g) {
        float[] xv = x.data, ov = out.data;
        int inPlane = g.inH() * g.inW(), outPlane = g.outH() * g.outW();
        double inv = 1.0 / (g.kernelH() * g.kernelW());
        forPlanes(g, (from, to) -> {
            for (int p = from; p < to; p++) {
                int xi = x.base + p * inPlane, o = out.base + p * outPlane;
                for (int oh = 0; oh < g.outH(); oh++) {
                    int h0 = Math.max(oh * g.strideH() - g.padH(), 0), h1 = Math.min(oh * g.strideH() - g.padH() + g.kernelH(), g.inH());
                    for (int ow = 0; ow < g.outW(); ow++, o++) {
                        int w0 = Math.max(ow * g.strideW() - g.padW(), 0), w1 = Math.min(ow * g.strideW() - g.padW() + g.kernelW(), g.inW());
                        double sum = 0;
                        for (int h = h0; h < h1; h++) {
                            for (int w = w0; w < w1; w++) sum += xv[xi + h * g.inW() + w];
                        }
                        ov[o] = (float) (sum * inv);
                    }
                }
            }
        });
    }

    static void avgBackward(CpuStorage gradOut, CpuStorage gradX, PoolGeometry g) {
        float[] gv = gradOut.data, xv = gradX.data;
        int inPlane = g.inH() * g.inW(), outPlane = g.outH() * g.outW();
        float inv = 1f / (g.kernelH() * g.kernelW());
        forPlanes(g, (from, to) -> {
            for (int p = from; p < to; p++) {
                int xi = gradX.base + p * inPlane, o = gradOut.base + p * outPlane;
                java.util.Arrays.fill(xv, xi, xi + inPlane, 0f);
                for (int oh = 0; oh < g.outH(); oh++) {
                    int h0 = Math.max(oh * g.strideH() - g.padH(), 0), h1 = Math.min(oh * g.strideH() - g.padH() + g.kernelH(), g.inH());
                    for (int ow = 0; ow < g.outW(); ow++, o++) {
                        int w0 = Math.max(ow * g.strideW() - g.padW(), 0), w1 = Math.min(ow * g.strideW() - g.padW() + g.kernelW(), g.inW());
                        float share = gv[o] * inv;
                        for (int h = h0; h < h1; h++) {
                            for (int w = w0; w < w1; w++) xv[xi + h * g.inW() + w] += share;
                        }
                    }
                }
            }
        });
    }

    /** Runs body over the batch * channels planes, in parallel when there is enough work. */
    private static void forPlanes(PoolGeometry g, Parallel.RangeBody body) {
        int planes = g.batch() * g.channels();
        int work = Math.max(1, g.inH() * g.inW());
        Parallel.forRange(planes, Math.max(1, 16384 / work), body);
    }
}
