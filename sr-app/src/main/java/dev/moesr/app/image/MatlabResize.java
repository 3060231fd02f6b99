package dev.moesr.app.image;

/**
 * Bicubic resizing as MATLAB's {@code imresize} does it, which is how the super-resolution
 * benchmarks make their low-resolution images: cubic kernel with a = -0.5, output size
 * ceil(in * scale), source coordinate u = x / scale + 0.5 (1 - 1 / scale) for 1-based x,
 * kernel widened by 1 / scale when shrinking (antialiasing), weights normalised per output
 * pixel, symmetric (mirror) boundary, one pass per dimension (height first when the scales
 * are equal, otherwise the dimension with the smaller scale first, as MATLAB orders them).
 * Computed in double; no clamping or rounding of the values.
 */
public final class MatlabResize {
    private MatlabResize() {}

    /** Resizes a [channels][h][w] planar image stored as one array by {@code scale}. */
    public static float[] resize(float[] image, int channels, int h, int w, double scale) {
        int outH = (int) Math.ceil(h * scale - 1e-9), outW = (int) Math.ceil(w * scale - 1e-9);
        return resize(image, channels, h, w, outH, outW, scale, scale);
    }

    /** Resizes to an explicit size; the scales are outH / h and outW / w. */
    public static float[] resizeTo(float[] image, int channels, int h, int w, int outH, int outW) {
        return resize(image, channels, h, w, outH, outW, outH / (double) h, outW / (double) w);
    }

    /**
     * Rows [y0, y1) and columns [x0, x1) of {@link #resizeTo}'s result, computed from the whole
     * source (so the boundary handling is the same) but without making the rest: the same
     * values, bit for bit, in memory proportional to the region. Tiled decoding takes the
     * upscaled LR image a tile at a time this way.
     */
    public static float[] resizeRegion(float[] image, int channels, int h, int w, int outH, int outW, int y0, int y1, int x0, int x1) {
        if (y0 < 0 || y1 > outH || y0 >= y1 || x0 < 0 || x1 > outW || x0 >= x1) {
            throw new IllegalArgumentException("region rows [" + y0 + ", " + y1 + ") x columns [" + x0 + ", " + x1 + ") is not inside a " + outH + "x" + outW + " image");
        }
        return resize(image, channels, h, w, outH, outW, outH / (double) h, outW / (double) w, y0, y1, x0, x1);
    }

    private static float[] resize(float[] image, int channels, int h, int w, int outH, int outW, double scaleH, double scaleW) {
        return resize(image, channels, h, w, outH, outW, scaleH, scaleW, 0, outH, 0, outW);
    }

    private static float[] resize(float[] image, int channels, int h, int w, int outH, int outW, double scaleH, double scaleW,
                                  int y0, int y1, int x0, int x1) {
        checkSizes(image.length, channels, h, w, outH, outW);
        Plan plan = new Plan(h, w, outH, outW, scaleH, scaleW, y0, y1, x0, x1);
        // only the source rows and columns the region reads, in double
        int rows = plan.r1 - plan.r0, cols = plan.c1 - plan.c0;
        double[] in = new double[channels * rows * cols];
        for (int c = 0; c < channels; c++) {
            for (int r = 0; r < rows; r++) {
                int s = (c * h + plan.r0 + r) * w + plan.c0, d = (c * rows + r) * cols;
                for (int x = 0; x < cols; x++) in[d + x] = image[s + x];
            }
        }
        double[] cur = plan.run(in, channels);
        float[] out = new float[cur.length];
        for (int i = 0; i < cur.length; i++) out[i] = (float) cur[i];
        return out;
    }

    /** The same resize on double values, for callers that compute in float64 (the NIQE metric). */
    public static double[] resize(double[] image, int channels, int h, int w, double scale) {
        int outH = (int) Math.ceil(h * scale - 1e-9), outW = (int) Math.ceil(w * scale - 1e-9);
        checkSizes(image.length, channels, h, w, outH, outW);
        return new Plan(h, w, outH, outW, scale, scale, 0, outH, 0, outW).run(image, channels);
    }

    private static void checkSizes(int length, int channels, int h, int w, int outH, int outW) {
        if (channels < 1 || h < 1 || w < 1) throw new IllegalArgumentException("cannot resize an empty image (" + channels + "x" + h + "x" + w + ")");
        if (length != (long) channels * h * w) throw new IllegalArgumentException(length + " values for a " + channels + "x" + h + "x" + w + " image");
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("resizing " + h + "x" + w + " gives an empty " + outH + "x" + outW + " image");
    }

    /**
     * The two passes for output rows [y0, y1) and columns [x0, x1): the weights of the whole
     * resize, and the source rows [r0, r1) and columns [c0, c1) that those outputs read.
     */
    private static final class Plan {
        final Contributions alongH, alongW;
        final boolean heightFirst;
        final int y0, y1, x0, x1, r0, r1, c0, c1;

        Plan(int h, int w, int outH, int outW, double scaleH, double scaleW, int y0, int y1, int x0, int x1) {
            this.alongH = contributions(h, outH, scaleH);
            this.alongW = contributions(w, outW, scaleW);
            this.heightFirst = scaleH <= scaleW;
            this.y0 = y0;
            this.y1 = y1;
            this.x0 = x0;
            this.x1 = x1;
            int[] rows = span(alongH, y0, y1), cols = span(alongW, x0, x1);
            this.r0 = rows[0];
            this.r1 = rows[1];
            this.c0 = cols[0];
            this.c1 = cols[1];
        }

        private static int[] span(Contributions c, int from, int to) {
            int lo = Integer.MAX_VALUE, hi = Integer.MIN_VALUE;
            for (int i = from; i < to; i++) {
                for (int j : c.index[i]) {
                    lo = Math.min(lo, j);
                    hi = Math.max(hi, j);
                }
            }
            return new int[] {lo, hi + 1};
        }

        /** {@code src} holds source rows [r0, r1) and columns [c0, c1) of every channel. */
        double[] run(double[] src, int channels) {
            double[] cur = src;
            int ch = r1 - r0, cw = c1 - c0;
            for (int pass = 0; pass < 2; pass++) {
                if ((pass == 0) == heightFirst) {
                    cur = resizeHeight(cur, channels, ch, cw, alongH, y0, y1, r0);
                    ch = y1 - y0;
                } else {
                    cur = resizeWidth(cur, channels, ch, cw, alongW, x0, x1, c0);
                    cw = x1 - x0;
                }
            }
            return cur;
        }
    }

    /** Cubic convolution kernel with a = -0.5 (Keys). */
    static double cubic(double x) {
        double ax = Math.abs(x), ax2 = ax * ax, ax3 = ax2 * ax;
        if (ax <= 1) return 1.5 * ax3 - 2.5 * ax2 + 1;
        if (ax <= 2) return -0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2;
        return 0;
    }

    /** For each output index: the input indices (0-based, mirrored) and normalised weights. */
    record Contributions(int[][] index, double[][] weight) {}

    static Contributions contributions(int in, int out, double scale) {
        boolean shrink = scale < 1;
        double width = shrink ? 4 / scale : 4;
        int taps = (int) Math.ceil(width) + 2;
        int[][] index = new int[out][];
        double[][] weight = new double[out][];
        for (int x = 1; x <= out; x++) {
            double u = x / scale + 0.5 * (1 - 1 / scale);
            int left = (int) Math.floor(u - width / 2);
            int[] idx = new int[taps];
            double[] wt = new double[taps];
            double sum = 0;
            for (int j = 0; j < taps; j++) {
                int p = left + j;                     // 1-based source position
                double d = u - p;
                wt[j] = shrink ? scale * cubic(scale * d) : cubic(d);
                sum += wt[j];
                idx[j] = mirror(p, in) - 1;
            }
            for (int j = 0; j < taps; j++) wt[j] /= sum;
            index[x - 1] = idx;
            weight[x - 1] = wt;
        }
        return new Contributions(index, weight);
    }

    /** Symmetric extension of 1-based position p into [1, n]: ..., 2, 1, 1, 2, ..., n, n, n-1, ... */
    static int mirror(int p, int n) {
        int period = 2 * n;
        int m = Math.floorMod(p - 1, period);
        return m < n ? m + 1 : period - m;
    }

    /** Output rows [y0, y1) of the resize along the height; {@code src} starts at source row {@code first}. */
    private static double[] resizeHeight(double[] src, int channels, int h, int w, Contributions c, int y0, int y1, int first) {
        int rows = y1 - y0;
        double[] dst = new double[channels * rows * w];
        for (int ch = 0; ch < channels; ch++) {
            for (int y = y0; y < y1; y++) {
                int[] idx = c.index[y];
                double[] wt = c.weight[y];
                int o = (ch * rows + y - y0) * w;
                for (int j = 0; j < idx.length; j++) {
                    int s = (ch * h + idx[j] - first) * w;
                    double k = wt[j];
                    for (int x = 0; x < w; x++) dst[o + x] += k * src[s + x];
                }
            }
        }
        return dst;
    }

    /** Output columns [x0, x1) of the resize along the width; {@code src} starts at source column {@code first}. */
    private static double[] resizeWidth(double[] src, int channels, int h, int w, Contributions c, int x0, int x1, int first) {
        int cols = x1 - x0;
        double[] dst = new double[channels * h * cols];
        for (int row = 0; row < channels * h; row++) {
            int s = row * w - first, o = row * cols - x0;
            for (int x = x0; x < x1; x++) {
                int[] idx = c.index[x];
                double[] wt = c.weight[x];
                double acc = 0;
                for (int j = 0; j < idx.length; j++) acc += wt[j] * src[s + idx[j]];
                dst[o + x] = acc;
            }
        }
        return dst;
    }
}
