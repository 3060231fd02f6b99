package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.ConvGeometry;

import java.util.Arrays;

/**
 * 2-D convolution over NCHW input with an (out, in/groups, kh, kw) weight: forward, backward
 * data, backward filter. Per image and group the convolution is a GEMM of the weight
 * (out/groups x in/groups*kh*kw) with the im2col matrix of the input (in/groups*kh*kw x
 * outH*outW); the im2col panels are packed straight from the image by {@link Im2col}, so the
 * matrix is never written out (implicit GEMM). A 1x1 convolution with stride 1 and no padding
 * is a plain GEMM on the image, and a convolution with one input channel per group (depthwise)
 * runs as direct loops, where a GEMM would be mostly padding.
 */
final class CpuConv {
    /** Floats of the column buffer of backward data; larger images are done in slices of output positions. */
    private static final int COLUMN_BUFFER_FLOATS = 1 << 22;
    /** Rows of the im2col matrix packed in one pass over its columns (keeps the sliver writes in runs). */
    private static final int ROWS_PER_PASS = 16;

    private CpuConv() {}

    // ---- forward ----------------------------------------------------------------------------

    static void forward(CpuStorage x, CpuStorage w, CpuStorage out, ConvGeometry g) {
        forward(MicroKernel.best(), x, w, out, g);
    }

    /** The same with a chosen micro-kernel (tests run both). */
    static void forward(MicroKernel kern, CpuStorage x, CpuStorage w, CpuStorage out, ConvGeometry g) {
        checkSizes(g, x, "input", w, "weight", out, "output");
        if (g.batch() == 0) return;
        if (g.inChannels() / g.groups() == 1) {
            Direct.forward(x, w, out, g);
            return;
        }
        Dims d = new Dims(g);
        if (!d.pointwise && DirectConv.suits(kern, g.strideW(), g.outW())) {
            float[][] packed = new float[g.groups()][];
            for (int grp = 0; grp < g.groups(); grp++) packed[grp] = DirectConv.packWeights(kern, w.data, w.base + grp * d.og * d.k, d.og, d.k);
            forEachImageAndGroup(g, (long) d.og * d.p * d.k, (n, grp, parallel) -> DirectConv.image(kern,
                    x.data, x.base + (n * g.inChannels() + grp * d.cg) * d.hw, d.cg, g.inH(), g.inW(), packed[grp], d.og,
                    g.kernelH(), g.kernelW(), g.strideH(), g.padH(), g.padW(), g.dilationH(), g.dilationW(),
                    out.data, out.base + (n * g.outChannels() + grp * d.og) * d.p, g.outH(), g.outW(), parallel));
            return;
        }
        forEachImageAndGroup(g, (long) d.og * d.p * d.k, (n, grp, parallel) -> {
            int xOff = x.base + (n * g.inChannels() + grp * d.cg) * d.hw;
            GemmDriver.RightSource cols = d.pointwise
                    ? new GemmDriver.Dense(x.data, xOff, d.p, false)
                    : new Im2col(x.data, xOff, g, false);
            GemmDriver.multiply(kern, d.og, d.p, d.k,
                    new GemmDriver.Dense(w.data, w.base + grp * d.og * d.k, d.k, false), cols,
                    out.data, out.base + (n * g.outChannels() + grp * d.og) * d.p, d.p, 1f, 0f, parallel);
        });
    }

    // ---- backward data --------------------------------------------------------------------------

    static void backwardData(CpuStorage gradOut, CpuStorage w, CpuStorage gradX, ConvGeometry g) {
        backwardData(MicroKernel.best(), gradOut, w, gradX, g);
    }

    /** The same with a chosen micro-kernel (tests run both). */
    static void backwardData(MicroKernel kern, CpuStorage gradOut, CpuStorage w, CpuStorage gradX, ConvGeometry g) {
        checkSizes(g, gradX, "input gradient", w, "weight", gradOut, "output gradient");
        if (g.batch() == 0) return;
        if (g.inChannels() / g.groups() == 1) {
            Direct.backwardData(gradOut, w, gradX, g);
            return;
        }
        Dims d = new Dims(g);
        if (!d.pointwise && g.strideH() == 1 && DirectConv.suits(kern, g.strideW(), g.inW())) {
            // with stride 1 the data gradient is itself a convolution: of the output gradient, padded by
            // dilation*(k-1) - padding, with the kernel flipped and its in/out channels swapped
            int kh = g.kernelH(), kw = g.kernelW(), taps = kh * kw;
            float[][] packed = new float[g.groups()][];
            for (int grp = 0; grp < g.groups(); grp++) {
                float[] flipped = new float[d.cg * d.og * taps];
                for (int o = 0; o < d.og; o++)
                    for (int c = 0; c < d.cg; c++)
                        for (int t = 0; t < taps; t++)
                            flipped[(c * d.og + o) * taps + (taps - 1 - t)] = w.data[w.base + ((grp * d.og + o) * d.cg + c) * taps + t];
                packed[grp] = DirectConv.packWeights(kern, flipped, 0, d.cg, d.og * taps);
            }
            int ph = g.dilationH() * (kh - 1) - g.padH(), pw = g.dilationW() * (kw - 1) - g.padW();
            forEachImageAndGroup(g, (long) d.og * d.p * d.k, (n, grp, parallel) -> DirectConv.image(kern,
                    gradOut.data, gradOut.base + (n * g.outChannels() + grp * d.og) * d.p, d.og, g.outH(), g.outW(), packed[grp], d.cg,
                    kh, kw, 1, ph, pw, g.dilationH(), g.dilationW(),
                    gradX.data, gradX.base + (n * g.inChannels() + grp * d.cg) * d.hw, g.inH(), g.inW(), parallel));
            return;
        }
        forEachImageAndGroup(g, (long) d.og * d.p * d.k, (n, grp, parallel) -> {
            int gxOff = gradX.base + (n * g.inChannels() + grp * d.cg) * d.hw;
            int goOff = gradOut.base + (n * g.outChannels() + grp * d.og) * d.p;
            GemmDriver.Dense wT = new GemmDriver.Dense(w.data, w.base + grp * d.og * d.k, d.k, true);
            if (d.pointwise) {
                // gradX (cg x hw) = W^T (cg x og) gradOut (og x hw), written in place
                GemmDriver.multiply(kern, d.cg, d.p, d.og, wT, new GemmDriver.Dense(gradOut.data, goOff, d.p, false),
                        gradX.data, gxOff, d.p, 1f, 0f, parallel);
                return;
            }
            // columns (k x slice) = W^T gradOut[:, slice], then scattered back into the image (col2im)
            Arrays.fill(gradX.data, gxOff, gxOff + d.cg * d.hw, 0f);
            int slice = Math.max(1, Math.min(d.p, COLUMN_BUFFER_FLOATS / d.k));
            float[] cols = new float[d.k * slice];
            for (int j0 = 0; j0 < d.p; j0 += slice) {
                int len = Math.min(slice, d.p - j0);
                GemmDriver.multiply(kern, d.k, len, d.og, wT, new GemmDriver.Dense(gradOut.data, goOff + j0, d.p, false),
                        cols, 0, len, 1f, 0f, parallel);
                int from = j0;
                Parallel.RangeBody scatter = (c0, c1) -> col2im(cols, len, from, gradX.data, gxOff, c0, c1, g);
                if (parallel) Parallel.forRange(d.cg, 1, scatter);
                else scatter.run(0, d.cg);
            }
        });
    }

    /** Adds columns [j0, j0+len) of the im2col matrix {@code cols} (row length len) into channels [c0, c1) of the image. */
    private static void col2im(float[] cols, int len, int j0, float[] gx, int gxOff, int c0, int c1, ConvGeometry g) {
        int kh = g.kernelH(), kw = g.kernelW(), h = g.inH(), w = g.inW(), ow = g.outW();
        for (int c = c0; c < c1; c++) {
            int plane = gxOff + c * h * w;
            for (int r = 0; r < kh; r++) {
                for (int s = 0; s < kw; s++) {
                    int row = ((c * kh + r) * kw + s) * len;
                    int rowOff = r * g.dilationH() - g.padH(), colOff = s * g.dilationW() - g.padW();
                    int j = j0, end = j0 + len;
                    while (j < end) {
                        int oh = j / ow, owStart = j % ow;
                        int run = Math.min(end - j, ow - owStart);
                        int ih = oh * g.strideH() + rowOff;
                        if (ih >= 0 && ih < h) {
                            int src = row + (j - j0), dst = plane + ih * w;
                            int lo = firstInside(owStart, run, g.strideW(), colOff, w), hi = lastInside(owStart, run, g.strideW(), colOff, w);
                            for (int t = lo; t <= hi; t++) gx[dst + (owStart + t) * g.strideW() + colOff] += cols[src + t];
                        }
                        j += run;
                    }
                }
            }
        }
    }

    // ---- backward filter ------------------------------------------------------------------------

    static void backwardFilter(CpuStorage x, CpuStorage gradOut, CpuStorage gradW, ConvGeometry g) {
        backwardFilter(MicroKernel.best(), x, gradOut, gradW, g);
    }

    /** The same with a chosen micro-kernel (tests run both). */
    static void backwardFilter(MicroKernel kern, CpuStorage x, CpuStorage gradOut, CpuStorage gradW, ConvGeometry g) {
        checkSizes(g, x, "input", gradW, "weight gradient", gradOut, "output gradient");
        if (g.batch() == 0) {
            Arrays.fill(gradW.data, gradW.base, gradW.base + (int) gradW.length(), 0f);
            return;
        }
        if (g.inChannels() / g.groups() == 1) {
            Direct.backwardFilter(x, gradOut, gradW, g);
            return;
        }
        Dims d = new Dims(g);
        // gradW_g (og x k) = sum over images of gradOut (og x p) times im2col^T (p x k); images accumulate, so only groups run side by side
        boolean groupsInParallel = g.groups() >= 2 * Parallel.threads() && (long) d.og * d.p * d.k < GemmDriver.PARALLEL_MIN_FMAS;
        Parallel.RangeBody groups = (g0, g1) -> {
            for (int grp = g0; grp < g1; grp++) {
                for (int n = 0; n < g.batch(); n++) {
                    int xOff = x.base + (n * g.inChannels() + grp * d.cg) * d.hw;
                    GemmDriver.RightSource colsT = d.pointwise
                            ? new GemmDriver.Dense(x.data, xOff, d.p, true)
                            : new Im2col(x.data, xOff, g, true);
                    GemmDriver.multiply(kern, d.og, d.k, d.p,
                            new GemmDriver.Dense(gradOut.data, gradOut.base + (n * g.outChannels() + grp * d.og) * d.p, d.p, false),
                            colsT, gradW.data, gradW.base + grp * d.og * d.k, d.k, 1f, n == 0 ? 0f : 1f, !groupsInParallel);
                }
            }
        };
        if (groupsInParallel) Parallel.forRange(g.groups(), 1, groups);
        else groups.run(0, g.groups());
    }

    // ---- shared pieces --------------------------------------------------------------------------

    /** The GEMM sizes of one image and group. */
    private static final class Dims {
        final int cg, og, k, p, hw;
        final boolean pointwise;

        Dims(ConvGeometry g) {
            cg = g.inChannels() / g.groups();
            og = g.outChannels() / g.groups();
            k = cg * g.kernelH() * g.kernelW();
            p = g.outH() * g.outW();
            hw = g.inH() * g.inW();
            pointwise = g.kernelH() == 1 && g.kernelW() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0 && g.padW() == 0;
        }
    }

    @FunctionalInterface
    private interface PerImage {
        void run(int n, int group, boolean parallelInside);
    }

    /**
     * Runs {@code body} for every (image, group): side by side when there are many small
     * products, else one after the other with the threads inside each product.
     */
    private static void forEachImageAndGroup(ConvGeometry g, long fmasEach, PerImage body) {
        int tasks = g.batch() * g.groups();
        if (tasks >= 2 * Parallel.threads() && fmasEach < GemmDriver.PARALLEL_MIN_FMAS) {
            Parallel.forRange(tasks, 1, (t0, t1) -> {
                for (int t = t0; t < t1; t++) body.run(t / g.groups(), t % g.groups(), false);
            });
        } else {
            for (int t = 0; t < tasks; t++) body.run(t / g.groups(), t % g.groups(), true);
        }
    }

    private static void checkSizes(ConvGeometry g, CpuStorage image, String imageName, CpuStorage weight, String weightName,
                                   CpuStorage out, String outName) {
        long xs = (long) g.batch() * g.inChannels() * g.inH() * g.inW();
        long ws = (long) g.outChannels() * (g.inChannels() / g.groups()) * g.kernelH() * g.kernelW();
        long os = (long) g.batch() * g.outChannels() * g.outH() * g.outW();
        check(image, xs, imageName, g);
        check(weight, ws, weightName, g);
        check(out, os, outName, g);
    }

    private static void check(CpuStorage s, long want, String name, ConvGeometry g) {
        if (s.length() != want) {
            throw new IllegalArgumentException("conv2d " + name + " holds " + s.length() + " floats but " + g + " needs " + want);
        }
    }

    /** The first t in [0, run) with 0 <= (start + t) * stride + off < limit, or run when none. */
    static int firstInside(int start, int run, int stride, int off, int limit) {
        // (start + t) * stride + off >= 0  <=>  t >= ceil((-off) / stride) - start
        int need = -off <= 0 ? 0 : (-off + stride - 1) / stride;
        int t = Math.max(0, need - start);
        return (start + t) * stride + off < limit ? t : run;
    }

    /** The last t in [0, run) with 0 <= (start + t) * stride + off < limit, or -1 when none. */
    static int lastInside(int start, int run, int stride, int off, int limit) {
        // (start + t) * stride + off <= limit - 1  <=>  t <= floor((limit - 1 - off) / stride) - start
        int top = limit - 1 - off;
        if (top < 0) return -1;
        int t = Math.min(run - 1, top / stride - start);
        return (start + t) * stride + off >= 0 ? t : -1;
    }

    /**
     * The im2col matrix of one image and group, packed on demand as the right GEMM operand.
     * Row q = (c, r, s) and column j = (oh, ow) hold x[c, oh*strideH - padH + r*dilationH,
     * ow*strideW - padW + s*dilationW], zero in the padding. Transposed, rows are output
     * positions and columns (c, r, s): the operand of the filter gradient.
     */
    static final class Im2col implements GemmDriver.RightSource {
        private final float[] x;
        private final int xOff;
        private final ConvGeometry g;
        private final boolean transposed;

        Im2col(float[] x, int xOff, ConvGeometry g, boolean transposed) {
            this.x = x;
            this.xOff = xOff;
            this.g = g;
            this.transposed = transposed;
        }

        @Override public void packRight(float[] dst, int dOff, int p0, int kc, int j0, int cols, int nr) {
            if (transposed) packTransposed(dst, dOff, p0, kc, j0, cols, nr);
            else packRows(dst, dOff, p0, kc, j0, cols, nr);
            // zero the columns past the last one in the final sliver
            int tail = cols % nr;
            if (tail != 0) {
                int base = dOff + (cols / nr) * kc * nr;
                for (int p = 0; p < kc; p++) Arrays.fill(dst, base + p * nr + tail, base + (p + 1) * nr, 0f);
            }
        }

        /**
         * Rows p0.. are (c, r, s); columns j0.. are output positions. A few rows at a time, the
         * columns are walked in runs that stay within one output row and one sliver, so each run
         * is a contiguous piece of an image row (for stride 1) written to a contiguous piece of
         * the sliver.
         */
        private void packRows(float[] dst, int dOff, int p0, int kc, int j0, int cols, int nr) {
            int kh = g.kernelH(), kw = g.kernelW(), h = g.inH(), w = g.inW(), ow = g.outW();
            int sh = g.strideH(), sw = g.strideW();
            int[] plane = new int[ROWS_PER_PASS], rowOff = new int[ROWS_PER_PASS], colOff = new int[ROWS_PER_PASS];
            for (int pb = 0; pb < kc; pb += ROWS_PER_PASS) {
                int rows = Math.min(ROWS_PER_PASS, kc - pb);
                for (int i = 0; i < rows; i++) {
                    int q = p0 + pb + i, c = q / (kh * kw), r = (q / kw) % kh, s = q % kw;
                    plane[i] = xOff + c * h * w;
                    rowOff[i] = r * g.dilationH() - g.padH();
                    colOff[i] = s * g.dilationW() - g.padW();
                }
                int t = 0;
                while (t < cols) {
                    int j = j0 + t, oh = j / ow, owStart = j % ow;
                    int lane = t % nr;
                    int run = Math.min(Math.min(cols - t, ow - owStart), nr - lane);
                    int runBase = dOff + (t / nr) * kc * nr + lane;
                    for (int i = 0; i < rows; i++) {
                        int d = runBase + (pb + i) * nr;
                        int ih = oh * sh + rowOff[i];
                        int lo = 0, hi = -1;
                        if (ih >= 0 && ih < h) {
                            lo = firstInside(owStart, run, sw, colOff[i], w);
                            hi = lastInside(owStart, run, sw, colOff[i], w);
                        }
                        if (lo > hi) {
                            for (int u = 0; u < run; u++) dst[d + u] = 0f;
                            continue;
                        }
                        for (int u = 0; u < lo; u++) dst[d + u] = 0f;
                        int src = plane[i] + ih * w + owStart * sw + colOff[i];
                        if (sw == 1) {
                            System.arraycopy(x, src + lo, dst, d + lo, hi - lo + 1);
                        } else {
                            for (int u = lo; u <= hi; u++) dst[d + u] = x[src + u * sw];
                        }
                        for (int u = hi + 1; u < run; u++) dst[d + u] = 0f;
                    }
                    t += run;
                }
            }
        }

        /** Rows p0.. are output positions; columns j0.. are (c, r, s): each column is gathered along a run of one output row. */
        private void packTransposed(float[] dst, int dOff, int p0, int kc, int j0, int cols, int nr) {
            int kh = g.kernelH(), kw = g.kernelW(), h = g.inH(), w = g.inW(), ow = g.outW();
            int sh = g.strideH(), sw = g.strideW();
            for (int t = 0; t < cols; t++) {
                int q = j0 + t, c = q / (kh * kw), r = (q / kw) % kh, s = q % kw;
                int plane = xOff + c * h * w;
                int rowOff = r * g.dilationH() - g.padH(), colOff = s * g.dilationW() - g.padW();
                int base = dOff + (t / nr) * kc * nr + t % nr;
                int p = 0;
                while (p < kc) {
                    int j = p0 + p, oh = j / ow, owStart = j % ow;
                    int run = Math.min(kc - p, ow - owStart);
                    int ih = oh * sh + rowOff;
                    int d = base + p * nr;
                    if (ih < 0 || ih >= h) {
                        for (int u = 0; u < run; u++) dst[d + u * nr] = 0f;
                    } else {
                        int lo = firstInside(owStart, run, sw, colOff, w), hi = lastInside(owStart, run, sw, colOff, w);
                        int src = plane + ih * w + owStart * sw + colOff;
                        for (int u = 0; u < run; u++) dst[d + u * nr] = u >= lo && u <= hi ? x[src + u * sw] : 0f;
                    }
                    p += run;
                }
            }
        }
    }

    /** Direct loops for convolutions with one input channel per group (depthwise, with any channel multiplier). */
    private static final class Direct {
        private Direct() {}

        static void forward(CpuStorage x, CpuStorage w, CpuStorage out, ConvGeometry g) {
        forward(MicroKernel.best(), x, w, out, g);
    }

    /** The same with a chosen micro-kernel (tests run both). */
    static void forward(MicroKernel kern, CpuStorage x, CpuStorage w, CpuStorage out, ConvGeometry g) {
            int oc = g.outChannels(), perGroup = oc / g.groups();
            int h = g.inH(), wd = g.inW(), oh = g.outH(), ow = g.outW(), kh = g.kernelH(), kw = g.kernelW();
            Parallel.forRange(g.batch() * oc, Math.max(1, 4096 / Math.max(1, oh * ow)), (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    int n = t / oc, o = t % oc, c = o / perGroup;
                    int src = x.base + (n * g.inChannels() + c) * h * wd;
                    int dst = out.base + t * oh * ow;
                    Arrays.fill(out.data, dst, dst + oh * ow, 0f);
                    for (int r = 0; r < kh; r++) {
                        int rowOff = r * g.dilationH() - g.padH();
                        for (int s = 0; s < kw; s++) {
                            float wv = w.data[w.base + (o * kh + r) * kw + s];
                            int colOff = s * g.dilationW() - g.padW();
                            int lo = firstInside(0, ow, g.strideW(), colOff, wd), hi = lastInside(0, ow, g.strideW(), colOff, wd);
                            for (int y = 0; y < oh; y++) {
                                int ih = y * g.strideH() + rowOff;
                                if (ih < 0 || ih >= h) continue;
                                int in = src + ih * wd + colOff, o2 = dst + y * ow;
                                for (int u = lo; u <= hi; u++) out.data[o2 + u] += wv * x.data[in + u * g.strideW()];
                            }
                        }
                    }
                }
            });
        }

        static void backwardData(CpuStorage gradOut, CpuStorage w, CpuStorage gradX, ConvGeometry g) {
        backwardData(MicroKernel.best(), gradOut, w, gradX, g);
    }

    /** The same with a chosen micro-kernel (tests run both). */
    static void backwardData(MicroKernel kern, CpuStorage gradOut, CpuStorage w, CpuStorage gradX, ConvGeometry g) {
            int ic = g.inChannels(), oc = g.outChannels(), perGroup = oc / g.groups();
            int h = g.inH(), wd = g.inW(), oh = g.outH(), ow = g.outW(), kh = g.kernelH(), kw = g.kernelW();
            Parallel.forRange(g.batch() * ic, Math.max(1, 4096 / Math.max(1, h * wd)), (t0, t1) -> {
                for (int t = t0; t < t1; t++) {
                    int n = t / ic, c = t % ic;
                    int dst = gradX.base + t * h * wd;
                    Arrays.fill(gradX.data, dst, dst + h * wd, 0f);
                    for (int o = c * perGroup; o < (c + 1) * perGroup; o++) {
                        int src = gradOut.base + (n * oc + o) * oh * ow;
                        for (int r = 0; r < kh; r++) {
                            int rowOff = r * g.dilationH() - g.padH();
                            for (int s = 0; s < kw; s++) {
                                float wv = w.data[w.base + (o * kh + r) * kw + s];
                                int colOff = s * g.dilationW() - g.padW();
                                int lo = firstInside(0, ow, g.strideW(), colOff, wd), hi = lastInside(0, ow, g.strideW(), colOff, wd);
                                for (int y = 0; y < oh; y++) {
                                    int ih = y * g.strideH() + rowOff;
                                    if (ih < 0 || ih >= h) continue;
                                    int in = dst + ih * wd + colOff, o2 = src + y * ow;
                                    for (int u = lo; u <= hi; u++) gradX.data[in + u * g.strideW()] += wv * gradOut.data[o2 + u];
                                }
                            }
                        }
                    }
                }
            });
        }

        static void backwardFilter(CpuStorage x, CpuStorage gradOut, CpuStorage gradW, ConvGeometry g) {
        backwardFilter(MicroKernel.best(), x, gradOut, gradW, g);
    }

    /** The same with a chosen micro-kernel (tests run both). */
    static void backwardFilter(MicroKernel kern, CpuStorage x, CpuStorage gradOut, CpuStorage gradW, ConvGeometry g) {
            int oc = g.outChannels(), perGroup = oc / g.groups();
            int h = g.inH(), wd = g.inW(), oh = g.outH(), ow = g.outW(), kh = g.kernelH(), kw = g.kernelW();
            Parallel.forRange(oc, 1, (o0, o1) -> {
                for (int o = o0; o < o1; o++) {
                    int c = o / perGroup;
                    for (int r = 0; r < kh; r++) {
                        int rowOff = r * g.dilationH() - g.padH();
                        for (int s = 0; s < kw; s++) {
                            int colOff = s * g.dilationW() - g.padW();
                            int lo = firstInside(0, ow, g.strideW(), colOff, wd), hi = lastInside(0, ow, g.strideW(), colOff, wd);
                            double sum = 0;
                            for (int n = 0; n < g.batch(); n++) {
                                int src = x.base + (n * g.inChannels() + c) * h * wd;
                                int go = gradOut.base + (n * oc + o) * oh * ow;
                                for (int y = 0; y < oh; y++) {
                                    int ih = y * g.strideH() + rowOff;
                                    if (ih < 0 || ih >= h) continue;
                                    int in = src + ih * wd + colOff, o2 = go + y * ow;
                                    float rowSum = 0f;
                                    for (int u = lo; u <= hi; u++) rowSum += gradOut.data[o2 + u] * x.data[in + u * g.strideW()];
                                    sum += rowSum;
                                }
                            }
                            gradW.data[gradW.base + (o * kh + r) * kw + s] = (float) sum;
                        }
                    }
                }
            });
        }
    }
}
