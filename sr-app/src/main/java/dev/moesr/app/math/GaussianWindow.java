package dev.moesr.app.math;

/** The sampled, normalised 1-d Gaussian used as a filter window. */
public final class GaussianWindow {
    private GaussianWindow() {}

    /**
     * exp(-(i - c)^2 / (2 sigma^2)) for i = 0 .. size-1 around the centre c = (size - 1) / 2,
     * divided by its sum (OpenCV's getGaussianKernel for sigma > 0).
     */
    public static double[] of(int size, double sigma) {
        if (size < 1 || !(sigma > 0)) throw new IllegalArgumentException("a Gaussian window needs size >= 1 and sigma > 0, got " + size + ", " + sigma);
        double[] g = new double[size];
        double c = (size - 1) / 2.0, sum = 0;
        for (int i = 0; i < size; i++) {
            g[i] = Math.exp(-(i - c) * (i - c) / (2 * sigma * sigma));
            sum += g[i];
        }
        for (int i = 0; i < size; i++) g[i] /= sum;
        return g;
    }
}
