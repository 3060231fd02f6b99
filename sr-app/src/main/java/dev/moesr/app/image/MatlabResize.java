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

    private static float[] resize(float[] image, int channels, int h, int w, int outH, int outW, double scaleH, double scaleW) {
        if (image.length != (long) channels * h * w) throw new IllegalArgumentException(image.length + " values for a " + channels + "x" + h + "x" + w + " image");
        double[] in = new double[image.length];
        for (int i = 0; i < image.length; i++) in[i] = image[i];
        double[] cur = resizeDouble(in, channels, h, w, outH, outW, scaleH, scaleW);
        float[] out = new float[cur.length];
        for (int i = 0; i < cur.length; i++) out[i] = (float) cur[i];
        return out;
    }

    /** The same resize on double values, for callers that compute in float64 (the NIQE metric). */
    public static double[] resize(double[] image, int channels, int h, int w, double scale) {
        int outH = (int) Math.ceil(h * scale - 1e-9), outW = (int) Math.ceil(w * scale - 1e-9);
        return resizeDouble(image, channels, h, w, outH, outW, scale, scale);
    }

    private static double[] resizeDouble(double[] image, int channels, int h, int w, int outH, int outW, double scaleH, double scaleW) {
        if (channels < 1 || h < 1 || w < 1) throw new IllegalArgumentException("cannot resize an empty image (" + channels + "x" + h + "x" + w + ")");
        if (image.length != (long) channels * h * w) throw new IllegalArgumentException(image.length + " values for a " + channels + "x" + h + "x" + w + " image");
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("resizing " + h + "x" + w + " gives an empty " + outH + "x" + outW + " image");
        double[] cur = image;
        int ch = h, cw = w;
        boolean heightFirst = scaleH <= scaleW;
        for (int pass = 0; pass < 2; pass++) {
            boolean alongHeight = (pass == 0) == heightFirst;
            if (alongHeight) {
                Contributions c = contributions(ch, outH, scaleH);
                cur = resizeHeight(cur, channels, ch, cw, c);
                ch = outH;
            } else {
                Contributions c = contributions(cw, outW, scaleW);
                cur = resizeWidth(cur, channels, ch, cw, c);
                cw = outW;
            }
        }
        return cur;
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

    private static double[] resizeHeight(double[] src, int channels, int h, int w, Contributions c) {
        int outH = c.index.length;
        double[] dst = new double[channels * outH * w];
        for (int ch = 0; ch < channels; ch++) {
            for (int y = 0; y < outH; y++) {
                int[] idx = c.index[y];
                double[] wt = c.weight[y];
                int o = (ch * outH + y) * w;
                for (int j = 0; j < idx.length; j++) {
                    int s = (ch * h + idx[j]) * w;
                    double k = wt[j];
                    for (int x = 0; x < w; x++) dst[o + x] += k * src[s + x];
                }
            }
        }
        return dst;
    }

    private static double[] resizeWidth(double[] src, int channels, int h, int w, Contributions c) {
        int outW = c.index.length;
        double[] dst = new double[channels * h * outW];
        for (int row = 0; row < channels * h; row++) {
            int s = row * w, o = row * outW;
            for (int x = 0; x < outW; x++) {
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
