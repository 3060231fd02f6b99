package dev.moesr.app.degrade;

import dev.moesr.app.math.GaussianWindow;
import dev.moesr.app.math.SpecialFunctions;

/**
 * The blur kernels of the Real-ESRGAN degradation model (Wang et al. 2021), all normalised to
 * sum 1, on the grid x, y in {-(k-1)/2, ..., (k-1)/2} (x along a row, y down the rows):
 * <ul>
 * <li>Gaussian: exp(-q / 2),</li>
 * <li>generalised Gaussian: exp(-q^beta / 2),</li>
 * <li>plateau: 1 / (q^beta + 1),</li>
 * </ul>
 * where q = (x, y) Sigma^-1 (x, y)^T and Sigma = R diag(sigmaX^2, sigmaY^2) R^T with R the
 * rotation by theta (isotropic kernels: sigmaY = sigmaX, theta = 0); and the circular low-pass
 * ("sinc") kernel cutoff J1(cutoff r) / (2 pi r), cutoff^2 / (4 pi) at the centre.
 */
public final class BlurKernels {
    private BlurKernels() {}

    public enum Shape { GAUSSIAN, GENERALIZED, PLATEAU }

    public static Kernel gaussian(int size, double sigmaX, double sigmaY, double theta) {
        return anisotropic(Shape.GAUSSIAN, size, sigmaX, sigmaY, theta, 1);
    }

    public static Kernel generalizedGaussian(int size, double sigmaX, double sigmaY, double theta, double beta) {
        return anisotropic(Shape.GENERALIZED, size, sigmaX, sigmaY, theta, beta);
    }

    public static Kernel plateau(int size, double sigmaX, double sigmaY, double theta, double beta) {
        return anisotropic(Shape.PLATEAU, size, sigmaX, sigmaY, theta, beta);
    }

    /** A kernel of the given shape; isotropic when sigmaY == sigmaX and theta == 0. */
    public static Kernel anisotropic(Shape shape, int size, double sigmaX, double sigmaY, double theta, double beta) {
        if (size < 1 || size % 2 == 0) throw new IllegalArgumentException("kernel size must be odd, got " + size);
        if (!(sigmaX > 0) || !(sigmaY > 0)) throw new IllegalArgumentException("kernel sigmas must be positive, got " + sigmaX + ", " + sigmaY);
        if (!(beta > 0)) throw new IllegalArgumentException("kernel beta must be positive, got " + beta);
        // the inverse of Sigma = R diag(sx^2, sy^2) R^T is R diag(1/sx^2, 1/sy^2) R^T
        double c = Math.cos(theta), s = Math.sin(theta);
        double ix = 1 / (sigmaX * sigmaX), iy = 1 / (sigmaY * sigmaY);
        double a = c * c * ix + s * s * iy, b = c * s * (ix - iy), d = s * s * ix + c * c * iy;
        int r = size / 2;
        double[] w = new double[size * size];
        double sum = 0;
        for (int yi = 0; yi < size; yi++) {
            double y = yi - r;
            for (int xi = 0; xi < size; xi++) {
                double x = xi - r;
                double q = a * x * x + 2 * b * x * y + d * y * y;
                double v = switch (shape) {
                    case GAUSSIAN -> Math.exp(-0.5 * q);
                    case GENERALIZED -> Math.exp(-0.5 * Math.pow(q, beta));
                    case PLATEAU -> 1 / (Math.pow(q, beta) + 1);
                };
                w[yi * size + xi] = v;
                sum += v;
            }
        }
        for (int i = 0; i < w.length; i++) w[i] /= sum;
        return new Kernel(size, w);
    }

    /**
     * The circular low-pass kernel of cutoff frequency {@code cutoff} (radians per pixel), the
     * 2-d "sinc" that produces ringing and overshoot artifacts.
     */
    public static Kernel circularLowpass(int size, double cutoff) {
        if (size < 1 || size % 2 == 0) throw new IllegalArgumentException("kernel size must be odd, got " + size);
        if (!(cutoff > 0)) throw new IllegalArgumentException("the cutoff must be positive, got " + cutoff);
        int r = size / 2;
        double[] w = new double[size * size];
        double sum = 0;
        for (int yi = 0; yi < size; yi++) {
            for (int xi = 0; xi < size; xi++) {
                double dist = Math.hypot(yi - r, xi - r);
                double v = dist == 0 ? cutoff * cutoff / (4 * Math.PI) : cutoff * SpecialFunctions.besselJ1(cutoff * dist) / (2 * Math.PI * dist);
                w[yi * size + xi] = v;
                sum += v;
            }
        }
        for (int i = 0; i < w.length; i++) w[i] /= sum;
        return new Kernel(size, w);
    }

    /**
     * OpenCV's {@code getGaussianKernel(size, 0)} outer product, as BasicSR's USM sharpener
     * builds it: sigma = 0.3 ((size - 1) / 2 - 1) + 0.8. Returned as the 1-d factor.
     */
    public static double[] opencvGaussian1d(int size) {
        return GaussianWindow.of(size, 0.3 * ((size - 1) * 0.5 - 1) + 0.8);
    }
}
