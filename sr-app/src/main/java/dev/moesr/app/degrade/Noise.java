package dev.moesr.app.degrade;

import dev.moesr.app.math.SpecialFunctions;

import java.util.random.RandomGenerator;

/**
 * The additive noises of the Real-ESRGAN model on planar float images in [0, 1], in place,
 * clipped to [0, 1] afterwards (BasicSR's {@code random_add_*_noise_pt} with clip=True,
 * rounds=False). "Gray" noise is one noise plane shared by all channels; colour noise is drawn
 * per channel.
 */
public final class Noise {
    private Noise() {}

    /** Adds N(0, (sigma / 255)^2) noise, sigma given on the 0..255 scale. */
    public static void addGaussian(float[] image, int channels, int h, int w, double sigma, boolean gray, RandomGenerator rng) {
        int plane = h * w;
        double s = sigma / 255;
        if (gray) {
            for (int i = 0; i < plane; i++) {
                double n = s * rng.nextGaussian();
                for (int c = 0; c < channels; c++) image[c * plane + i] = clip(image[c * plane + i] + n);
            }
        } else {
            for (int i = 0; i < image.length; i++) image[i] = clip(image[i] + s * rng.nextGaussian());
        }
    }

    /**
     * Adds Poisson (shot) noise times {@code scale}: the image rounded to 8-bit levels is taken as
     * intensities, the number of distinct levels rounded up to a power of two v sets the photon
     * count, and the noise is (Poisson(v * I) / v - I) * scale. Gray noise does the same on the
     * luma (0.2989 R + 0.587 G + 0.114 B, torchvision's weights) and adds it to every channel.
     */
    public static void addPoisson(float[] image, int channels, int h, int w, double scale, boolean gray, RandomGenerator rng) {
        int plane = h * w;
        if (gray) {
            double[] luma = new double[plane];
            for (int i = 0; i < plane; i++) {
                luma[i] = channels == 3
                        ? 0.2989 * image[i] + 0.587 * image[plane + i] + 0.114 * image[2 * plane + i]
                        : image[i];
            }
            double[] noise = poissonNoise(luma, rng);
            for (int i = 0; i < plane; i++) {
                for (int c = 0; c < channels; c++) image[c * plane + i] = clip(image[c * plane + i] + scale * noise[i]);
            }
        } else {
            double[] values = new double[image.length];
            for (int i = 0; i < values.length; i++) values[i] = image[i];
            double[] noise = poissonNoise(values, rng);
            for (int i = 0; i < image.length; i++) image[i] = clip(image[i] + scale * noise[i]);
        }
    }

    /** Poisson(v * q) / v - q with q the values rounded to 8-bit levels and v the power of two at or above their count. */
    static double[] poissonNoise(double[] values, RandomGenerator rng) {
        double[] q = new double[values.length];
        boolean[] seen = new boolean[256];
        int distinct = 0;
        for (int i = 0; i < values.length; i++) {
            int level = (int) Math.min(255, Math.max(0, Math.rint(values[i] * 255)));
            q[i] = level / 255.0;
            if (!seen[level]) {
                seen[level] = true;
                distinct++;
            }
        }
        double v = Math.pow(2, Math.ceil(Math.log(distinct) / Math.log(2) - 1e-12));
        double[] noise = new double[values.length];
        for (int i = 0; i < q.length; i++) noise[i] = poisson(q[i] * v, rng) / v - q[i];
        return noise;
    }

    private static float clip(double v) {
        return (float) Math.min(1, Math.max(0, v));
    }

    /**
     * A Poisson variate of mean {@code lambda}: multiplication of uniforms for small means,
     * Hormann's transformed rejection with squeeze (PTRS, 1993) from a mean of 10 on, which needs
     * about one uniform pair per variate whatever the mean.
     */
    public static long poisson(double lambda, RandomGenerator rng) {
        if (!(lambda >= 0) || Double.isInfinite(lambda)) throw new IllegalArgumentException("a Poisson mean must be finite and >= 0, got " + lambda);
        if (lambda == 0) return 0;
        if (lambda < 10) {
            double limit = Math.exp(-lambda), p = 1;
            long k = 0;
            while (true) {
                p *= rng.nextDouble();
                if (p <= limit) return k;
                k++;
            }
        }
        double slam = Math.sqrt(lambda), loglam = Math.log(lambda);
        double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
        double invAlpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
        while (true) {
            double u = rng.nextDouble() - 0.5, v = rng.nextDouble();
            double us = 0.5 - Math.abs(u);
            long k = (long) Math.floor((2 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= vr) return k;
            if (k < 0 || (us < 0.013 && v > us)) continue;
            if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b)
                    <= -lambda + k * loglam - SpecialFunctions.logGamma(k + 1)) {
                return k;
            }
        }
    }
}
