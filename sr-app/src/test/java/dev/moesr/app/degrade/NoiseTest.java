package dev.moesr.app.degrade;

import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class NoiseTest {

    /** Mean and variance of the sampler agree with lambda within 5 standard errors, on both sides of the method switch at 10. */
    @ParameterizedTest(name = "lambda {0}")
    @ValueSource(doubles = {0.05, 0.5, 3, 9.99, 10, 37.5, 250})
    void poissonSamplesHaveMeanAndVarianceLambda(double lambda) {
        SplittableRandom rng = new SplittableRandom(Double.hashCode(lambda));
        int n = 40_000;
        double sum = 0, sq = 0;
        for (int i = 0; i < n; i++) {
            long k = Noise.poisson(lambda, rng);
            assertTrue(k >= 0);
            sum += k;
            sq += (double) k * k;
        }
        double mean = sum / n, var = sq / n - mean * mean;
        assertEquals(lambda, mean, 5 * Math.sqrt(lambda / n), "mean");
        // the variance of the sample variance of a Poisson is about (lambda + 2 lambda^2) / n
        assertEquals(lambda, var, 5 * Math.sqrt((lambda + 2 * lambda * lambda) / n), "variance");
    }

    @Test
    void poissonProbabilitiesOfSmallCounts() {
        SplittableRandom rng = new SplittableRandom(1);
        double lambda = 12;   // the rejection sampler's side
        int n = 100_000;
        int[] counts = new int[40];
        for (int i = 0; i < n; i++) counts[(int) Math.min(39, Noise.poisson(lambda, rng))]++;
        for (int k = 5; k <= 20; k++) {
            double p = Math.exp(-lambda + k * Math.log(lambda) - dev.moesr.app.math.SpecialFunctions.logGamma(k + 1));
            assertEquals(p, counts[k] / (double) n, 5 * Math.sqrt(p * (1 - p) / n), "P(K = " + k + ")");
        }
        assertEquals(0, Noise.poisson(0, rng));
        assertThrows(IllegalArgumentException.class, () -> Noise.poisson(-1, rng));
    }

    @Test
    void gaussianNoiseHasTheRequestedSigmaAndGrayNoiseIsSharedByChannels() {
        int h = 64, w = 64, plane = h * w;
        float[] img = new float[3 * plane];
        java.util.Arrays.fill(img, 0.5f);
        Noise.addGaussian(img, 3, h, w, 10, false, new SplittableRandom(2));
        double sq = 0;
        for (float v : img) sq += (v - 0.5) * (v - 0.5);
        assertEquals(10 / 255.0, Math.sqrt(sq / img.length), 0.03 * 10 / 255.0, "colour noise sigma");
        assertNotEquals(img[0], img[plane]);

        java.util.Arrays.fill(img, 0.5f);
        Noise.addGaussian(img, 3, h, w, 10, true, new SplittableRandom(2));
        for (int i = 0; i < plane; i++) {
            assertEquals(img[i], img[plane + i]);
            assertEquals(img[i], img[2 * plane + i]);
        }
    }

    @Test
    void noisyValuesAreClippedToTheUnitRange() {
        Gen c = new Gen(8);
        float[] img = c.floats(3 * 20 * 20, 0, 1);
        img[0] = 0;
        img[1] = 1;
        float[] p = img.clone();
        Noise.addGaussian(img, 3, 20, 20, 200, false, new SplittableRandom(3));
        Noise.addPoisson(p, 3, 20, 20, 5, true, new SplittableRandom(3));
        for (float v : img) assertTrue(v >= 0 && v <= 1, "gaussian " + v);
        for (float v : p) assertTrue(v >= 0 && v <= 1, "poisson " + v);
    }

    @Test
    void poissonNoiseScalesWithTheLevelCount() {
        // a two-level image: v = 2, so the noise of a pixel at 1 is Poisson(2) / 2 - 1: variance 1/2
        double[] values = new double[20_000];
        for (int i = 0; i < values.length; i++) values[i] = i % 2;
        double[] noise = Noise.poissonNoise(values, new SplittableRandom(4));
        double sum = 0, sq = 0;
        int n = 0;
        for (int i = 1; i < values.length; i += 2) {
            sum += noise[i];
            sq += noise[i] * noise[i];
            n++;
        }
        assertEquals(0, sum / n, 0.03);
        assertEquals(0.5, sq / n - (sum / n) * (sum / n), 0.05);
        for (int i = 0; i < values.length; i += 2) assertEquals(0.0, noise[i], "Poisson(0) is 0: no noise on black");
    }

    @Test
    void sameSeedSameNoise() {
        float[] a = new Gen(5).floats(3 * 9 * 7, 0, 1), b = a.clone();
        Noise.addPoisson(a, 3, 9, 7, 1.5, false, new SplittableRandom(77));
        Noise.addPoisson(b, 3, 9, 7, 1.5, false, new SplittableRandom(77));
        assertArrayEquals(a, b);
    }
}
