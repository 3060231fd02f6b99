package dev.moesr.app.image;

import java.util.Arrays;
import java.util.Locale;

/**
 * Resizing as PyTorch's {@code F.interpolate} does it with {@code align_corners=False} and no
 * antialiasing, which is what the Real-ESRGAN degradation pipeline calls: "area" (adaptive
 * average pooling), "bilinear" and "bicubic" (a = -0.75, edge pixels repeated). Planar float
 * images [channels][h][w]; sums in double.
 *
 * <p>Two ways to give the size, with different coordinate maps, as in PyTorch: by a scale factor
 * (output floor(in * scale), source coordinate (dst + 0.5) / scale - 0.5) or by an output size
 * (source coordinate (dst + 0.5) * in / out - 0.5). Area mode always pools by the sizes.
 */
public final class TorchResize {
    private TorchResize() {}

    public enum Mode {
        AREA, BILINEAR, BICUBIC;

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    /** Resizes by {@code scale}: output floor(h * scale) x floor(w * scale) (at least 1). */
    public static float[] byScale(float[] image, int channels, int h, int w, double scale, Mode mode) {
        if (!(scale > 0) || Double.isInfinite(scale)) throw new IllegalArgumentException("scale must be positive and finite, got " + scale);
        int outH = Math.max(1, (int) Math.floor(h * scale)), outW = Math.max(1, (int) Math.floor(w * scale));
        if (mode == Mode.AREA) return resize(image, channels, h, w, outH, outW, mode, h / (double) outH, w / (double) outW);
        return resize(image, channels, h, w, outH, outW, mode, 1 / scale, 1 / scale);
    }

    /** Resizes to outH x outW. */
    public static float[] toSize(float[] image, int channels, int h, int w, int outH, int outW, Mode mode) {
        if (outH < 1 || outW < 1) throw new IllegalArgumentException("cannot resize " + w + "x" + h + " to an empty " + outW + "x" + outH + " image");
        return resize(image, channels, h, w, outH, outW, mode, h / (double) outH, w / (double) outW);
    }

    /** The output size of {@link #byScale} along one side. */
    public static int scaledSize(int in, double scale) {
        return Math.max(1, (int) Math.floor(in * scale));
    }

    private static float[] resize(float[] image, int channels, int h, int w, int outH, int outW, Mode mode, double ratioH, double ratioW) {
        if (channels < 1 || h < 1 || w < 1 || image.length != (long) channels * h * w) {
            throw new IllegalArgumentException(image.length + " values do not make a " + channels + "x" + h + "x" + w + " image");
        }
        Taps rows = taps(h, outH, ratioH, mode), cols = taps(w, outW, ratioW, mode);
        float[] out = new float[channels * outH * outW];
        double[] tmp = new double[outH * w];
        for (int c = 0; c < channels; c++) {
            int base = c * h * w;
            Arrays.fill(tmp, 0);
            for (int y = 0; y < outH; y++) {
                int[] idx = rows.index[y];
                double[] wt = rows.weight[y];
                for (int j = 0; j < idx.length; j++) {
                    int src = base + idx[j] * w;
                    double k = wt[j];
                    for (int x = 0; x < w; x++) tmp[y * w + x] += k * image[src + x];
                }
            }
            int obase = c * outH * outW;
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    int[] idx = cols.index[x];
                    double[] wt = cols.weight[x];
                    double s = 0;
                    for (int j = 0; j < idx.length; j++) s += wt[j] * tmp[y * w + idx[j]];
                    out[obase + y * outW + x] = (float) s;
                }
            }
        }
        return out;
    }

    /** For each output index along one side: the input indices and their weights. */
    record Taps(int[][] index, double[][] weight) {}

    static Taps taps(int in, int out, double ratio, Mode mode) {
        int[][] index = new int[out][];
        double[][] weight = new double[out][];
        for (int i = 0; i < out; i++) {
            switch (mode) {
                case AREA -> {
                    // adaptive average pooling: the cells [floor(i * in / out), ceil((i + 1) * in / out))
                    int start = (int) ((long) i * in / out);
                    int end = (int) (((long) (i + 1) * in + out - 1) / out);
                    index[i] = new int[end - start];
                    weight[i] = new double[end - start];
                    for (int j = start; j < end; j++) {
                        index[i][j - start] = j;
                        weight[i][j - start] = 1.0 / (end - start);
                    }
                }
                case BILINEAR -> {
                    double src = Math.max(0, ratio * (i + 0.5) - 0.5);
                    int i0 = Math.min((int) src, in - 1);
                    int i1 = i0 < in - 1 ? i0 + 1 : i0;
                    double l1 = Math.min(1, Math.max(0, src - i0));
                    index[i] = new int[] {i0, i1};
                    weight[i] = new double[] {1 - l1, l1};
                }
                case BICUBIC -> {
                    double src = ratio * (i + 0.5) - 0.5;
                    int i0 = (int) Math.floor(src);
                    double t = src - i0;
                    index[i] = new int[4];
                    weight[i] = cubicWeights(t);
                    for (int j = 0; j < 4; j++) index[i][j] = Math.min(in - 1, Math.max(0, i0 - 1 + j));
                }
            }
        }
        return new Taps(index, weight);
    }

    private static final double A = -0.75;

    /** The four weights of the cubic convolution kernel with a = -0.75 at distances 1 + t, t, 1 - t, 2 - t. */
    static double[] cubicWeights(double t) {
        return new double[] {cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)};
    }

    private static double cubicNear(double x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static double cubicFar(double x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }
}
