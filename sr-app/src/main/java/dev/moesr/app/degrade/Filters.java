package dev.moesr.app.degrade;

import java.util.Arrays;

/**
 * Filtering of planar float images [channels][h][w] the way BasicSR's {@code filter2D} does it:
 * the image is padded by reflection (mirror without repeating the edge pixel, PyTorch's
 * "reflect") by half the kernel side, then correlated with the kernel, so the output has the
 * input's size. Sums in double.
 */
public final class Filters {
    private Filters() {}

    /** Correlates every channel with {@code kernel}. */
    public static float[] filter2d(float[] image, int channels, int h, int w, Kernel kernel) {
        check(image, channels, h, w);
        Kernel k = kernel.trimmed();
        if (k.isIdentity()) return image.clone();
        int size = k.size(), r = size / 2;
        int[] rowAt = reflectIndex(h, r), colAt = reflectIndex(w, r);
        int pw = w + 2 * r;
        float[] out = new float[image.length];
        double[] padded = new double[(h + 2 * r) * pw];
        double[] acc = new double[w];
        double[] kw = k.weights();
        for (int c = 0; c < channels; c++) {
            int base = c * h * w;
            for (int py = 0; py < h + 2 * r; py++) {
                int src = base + rowAt[py] * w;
                for (int px = 0; px < pw; px++) padded[py * pw + px] = image[src + colAt[px]];
            }
            for (int y = 0; y < h; y++) {
                Arrays.fill(acc, 0);
                for (int i = 0; i < size; i++) {
                    int row = (y + i) * pw;
                    for (int j = 0; j < size; j++) {
                        double kv = kw[i * size + j];
                        if (kv == 0) continue;
                        int p = row + j;
                        for (int x = 0; x < w; x++) acc[x] += kv * padded[p + x];
                    }
                }
                for (int x = 0; x < w; x++) out[base + y * w + x] = (float) acc[x];
            }
        }
        return out;
    }

    /**
     * Correlation with the separable kernel g g^T (odd length g), with the same reflection
     * padding: the same values as {@link #filter2d} with the outer product, at 2k instead of
     * k^2 operations per pixel (the 51x51 USM blur).
     */
    public static float[] separable(float[] image, int channels, int h, int w, double[] g) {
        check(image, channels, h, w);
        if (g.length % 2 == 0) throw new IllegalArgumentException("a separable kernel needs an odd length, got " + g.length);
        int k = g.length, r = k / 2;
        int[] rowAt = reflectIndex(h, r), colAt = reflectIndex(w, r);
        float[] out = new float[image.length];
        double[] horizontal = new double[h * w];
        double[] acc = new double[w];
        for (int c = 0; c < channels; c++) {
            int base = c * h * w;
            for (int y = 0; y < h; y++) {
                int src = base + y * w;
                for (int x = 0; x < w; x++) {
                    double s = 0;
                    for (int j = 0; j < k; j++) s += g[j] * image[src + colAt[x + j]];
                    horizontal[y * w + x] = s;
                }
            }
            for (int y = 0; y < h; y++) {
                Arrays.fill(acc, 0);
                for (int i = 0; i < k; i++) {
                    int src = rowAt[y + i] * w;
                    double gi = g[i];
                    for (int x = 0; x < w; x++) acc[x] += gi * horizontal[src + x];
                }
                for (int x = 0; x < w; x++) out[base + y * w + x] = (float) acc[x];
            }
        }
        return out;
    }

    /**
     * For each padded position p in [0, n + 2r): the source index of p - r mirrored into
     * [0, n) without repeating the edge (…, 2, 1, 0, 1, 2, …, n-2, n-1, n-2, …). PyTorch refuses
     * a pad of n or more; here the mirror simply repeats, so small images work too.
     */
    static int[] reflectIndex(int n, int r) {
        int[] idx = new int[n + 2 * r];
        for (int p = 0; p < idx.length; p++) idx[p] = reflect(p - r, n);
        return idx;
    }

    static int reflect(int i, int n) {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        int m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }

    private static void check(float[] image, int channels, int h, int w) {
        if (channels < 1 || h < 1 || w < 1 || image.length != (long) channels * h * w) {
            throw new IllegalArgumentException(image.length + " values do not make a " + channels + "x" + h + "x" + w + " image");
        }
    }
}
