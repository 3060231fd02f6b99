package dev.moesr.app.metrics;

import dev.moesr.app.math.GaussianWindow;

/**
 * PSNR and SSIM as the super-resolution papers report them (BasicSR's definitions): on a plane
 * with values in 0..255 (normally the luma of {@link Plane#luma}, border already cropped), in
 * float64.
 */
public final class FullReference {
    private FullReference() {}

    /** The peak value of the 0..255 range. */
    public static final double PEAK = 255;

    /** 10 log10(255^2 / MSE); positive infinity for identical planes. */
    public static double psnr(Plane a, Plane b) {
        requireSameSize(a, b);
        double sum = 0;
        double[] x = a.values(), y = b.values();
        for (int i = 0; i < x.length; i++) {
            double d = x[i] - y[i];
            sum += d * d;
        }
        double mse = sum / x.length;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(PEAK * PEAK / mse);
    }

    /** The side of the SSIM window. */
    public static final int SSIM_WINDOW = 11;
    /** The standard deviation of the SSIM window's Gaussian. */
    public static final double SSIM_SIGMA = 1.5;
    private static final double C1 = Math.pow(0.01 * PEAK, 2), C2 = Math.pow(0.03 * PEAK, 2);

    /**
     * Mean SSIM over the valid region (every position where the whole 11x11 Gaussian window,
     * sigma 1.5, lies inside the image), C1 = (0.01 * 255)^2, C2 = (0.03 * 255)^2, population
     * (not sample) covariances.
     */
    public static double ssim(Plane a, Plane b) {
        requireSameSize(a, b);
        if (a.height() < SSIM_WINDOW || a.width() < SSIM_WINDOW) {
            throw new IllegalArgumentException("SSIM needs at least " + SSIM_WINDOW + "x" + SSIM_WINDOW + " pixels (after the border crop), got "
                    + a.width() + "x" + a.height());
        }
        double[] g = GaussianWindow.of(SSIM_WINDOW, SSIM_SIGMA);
        int n = a.values().length;
        double[] x = a.values(), y = b.values(), xx = new double[n], yy = new double[n], xy = new double[n];
        for (int i = 0; i < n; i++) {
            xx[i] = x[i] * x[i];
            yy[i] = y[i] * y[i];
            xy[i] = x[i] * y[i];
        }
        int h = a.height(), w = a.width();
        double[] mx = validFilter(x, h, w, g), my = validFilter(y, h, w, g);
        double[] sxx = validFilter(xx, h, w, g), syy = validFilter(yy, h, w, g), sxy = validFilter(xy, h, w, g);
        double sum = 0;
        for (int i = 0; i < mx.length; i++) {
            double mxy = mx[i] * my[i], mxx = mx[i] * mx[i], myy = my[i] * my[i];
            double vx = sxx[i] - mxx, vy = syy[i] - myy, cxy = sxy[i] - mxy;
            sum += (2 * mxy + C1) * (2 * cxy + C2) / ((mxx + myy + C1) * (vx + vy + C2));
        }
        return sum / mx.length;
    }

    /** Separable filtering with the outer product g g^T, only where the window fits: (h-k+1) x (w-k+1) values. */
    private static double[] validFilter(double[] v, int h, int w, double[] g) {
        int k = g.length, oh = h - k + 1, ow = w - k + 1;
        double[] rows = new double[h * ow];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < ow; x++) {
                double s = 0;
                for (int j = 0; j < k; j++) s += g[j] * v[y * w + x + j];
                rows[y * ow + x] = s;
            }
        }
        double[] out = new double[oh * ow];
        for (int y = 0; y < oh; y++) {
            for (int i = 0; i < k; i++) {
                double gi = g[i];
                int src = (y + i) * ow, dst = y * ow;
                for (int x = 0; x < ow; x++) out[dst + x] += gi * rows[src + x];
            }
        }
        return out;
    }

    private static void requireSameSize(Plane a, Plane b) {
        if (a.height() != b.height() || a.width() != b.width()) {
            throw new IllegalArgumentException("images of different sizes: " + a.width() + "x" + a.height() + " and "
                    + b.width() + "x" + b.height() + "; a result and its reference must have the same size");
        }
    }
}
