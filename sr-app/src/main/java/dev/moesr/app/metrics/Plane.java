package dev.moesr.app.metrics;

import dev.moesr.app.image.Image;

/** One channel of an image in float64, row-major [y][x]: what the metrics compute on. */
public record Plane(int height, int width, double[] values) {
    public Plane {
        if (height < 1 || width < 1 || values.length != (long) height * width) {
            throw new IllegalArgumentException("a plane of " + height + "x" + width + " cannot hold " + values.length + " values");
        }
    }

    public double get(int y, int x) { return values[y * width + x]; }

    /**
     * The luma the super-resolution benchmarks measure on, in the 0..255 range: for RGB the Y of
     * BT.601 YCbCr, Y = 16 + 65.481 R + 128.553 G + 24.966 B (R, G, B in [0, 1]); for a gray
     * image the gray value times 255 (what BasicSR does with one-channel images).
     */
    public static Plane luma(Image image) {
        int n = image.height() * image.width();
        float[] p = image.pixels();
        double[] y = new double[n];
        if (image.channels() == 1) {
            for (int i = 0; i < n; i++) y[i] = 255.0 * p[i];
        } else {
            for (int i = 0; i < n; i++) y[i] = 16.0 + 65.481 * p[i] + 128.553 * p[n + i] + 24.966 * p[2 * n + i];
        }
        return new Plane(image.height(), image.width(), y);
    }

    /** Removes {@code border} pixels on every side. */
    public Plane cropBorder(int border) {
        if (border < 0) throw new IllegalArgumentException("the border to crop must be >= 0, got " + border);
        if (border == 0) return this;
        int h = height - 2 * border, w = width - 2 * border;
        if (h < 1 || w < 1) {
            throw new IllegalArgumentException("cropping " + border + " pixels from each side of a " + width + "x" + height + " image leaves nothing");
        }
        double[] out = new double[h * w];
        for (int y = 0; y < h; y++) System.arraycopy(values, (y + border) * width + border, out, y * w, w);
        return new Plane(h, w, out);
    }

    /** Rounded to whole numbers, ties to even (numpy's round). */
    public Plane rounded() {
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) out[i] = Math.rint(values[i]);
        return new Plane(height, width, out);
    }
}
