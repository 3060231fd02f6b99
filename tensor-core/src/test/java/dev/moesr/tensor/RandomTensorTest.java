package dev.moesr.tensor;

import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensor.rand / randn: the stream definition, statistics, determinism and counter handling. */
class RandomTensorTest {

    static Stream<Long> seeds() { return Gen.seeds("random-tensor", 4); }

    private static double uniformRef(long seed, long counter, long i) {
        return (Philox.word(seed, counter, i) >>> 8) * 0x1p-24;
    }

    /** Box-Muller with the JDK's log/sin/cos: the stream definition, up to last-bit differences. */
    private static double normalRef(long seed, long counter, long i) {
        long first = i - i % 2;
        int wa = Philox.word(seed, counter, first), wb = Philox.word(seed, counter, first + 1);
        double u1 = ((wa >>> 8) + 1) * 0x1p-24, u2 = (wb >>> 8) * 0x1p-24;
        double r = Math.sqrt(-2 * Math.log(u1));
        return i % 2 == 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
    }

    @Test
    void uniformElementsFollowTheStreamDefinition() {
        long seed = 0xDEADBEEFCAFEL, counter = (1L << 32) - 3;   // the counter's high word changes inside the tensor
        float[] v = Tensor.rand(new Philox(seed, counter), 7, 5).toFloatArray();
        for (int i = 0; i < v.length; i++) assertEquals(uniformRef(seed, counter, i), v[i], 0.0, "element " + i);
    }

    @Test
    void normalElementsFollowTheStreamDefinition() {
        long seed = -12345L, counter = 77;
        float[] v = Tensor.randn(new Philox(seed, counter), 3, 11).toFloatArray();
        for (int i = 0; i < v.length; i++) {
            double ref = normalRef(seed, counter, i);
            assertEquals(ref, v[i], 1e-6 * Math.max(1, Math.abs(ref)), "element " + i);
        }
    }

    @Test
    void largeTensorsAgreeWithTheDefinitionEverywhere() {
        long seed = 31, counter = 5;
        int n = 1_000_003;                    // parallel blocks and a partial last block
        float[] u = Tensor.rand(new Philox(seed, counter), n).toFloatArray();
        float[] z = Tensor.randn(new Philox(seed, counter), n).toFloatArray();
        for (int i : new int[] {0, 1, 2, 3, 4, 65_535, 524_288, n - 3, n - 2, n - 1}) {
            assertEquals(uniformRef(seed, counter, i), u[i], 0.0, "uniform element " + i);
            assertEquals(normalRef(seed, counter, i), z[i], 1e-6 * Math.max(1, Math.abs(z[i])), "normal element " + i);
        }
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("seeds")
    void uniformStatistics(long seed) {
        int n = 200_000;
        float[] v = Tensor.rand(new Philox(seed), n).toFloatArray();
        double mean = 0, sq = 0;
        for (float x : v) {
            assertTrue(x >= 0f && x < 1f, "uniform value " + x + " outside [0, 1)");
            mean += x;
        }
        mean /= n;
        for (float x : v) sq += (x - mean) * (x - mean);
        double var = sq / (n - 1);
        // 5 standard errors: deterministic seeds, so this never flakes; a wrong stream misses by far more
        assertEquals(0.5, mean, 5 * Math.sqrt(1.0 / 12 / n), "mean");
        assertEquals(1.0 / 12, var, 5 * Math.sqrt(1.0 / 180 / n), "variance");
        float[] sorted = v.clone();
        Arrays.sort(sorted);
        double d = 0;
        for (int i = 0; i < n; i++) d = Math.max(d, Math.max(Math.abs((i + 1.0) / n - sorted[i]), Math.abs((double) i / n - sorted[i])));
        assertTrue(d < 1.95 / Math.sqrt(n), "Kolmogorov-Smirnov distance " + d + " above the 0.1% critical value");
    }

    /** Phi(x) by Simpson's rule on the density (plenty accurate for a KS bound). */
    private static double phi(double x) {
        int steps = 2000;
        double h = x / steps, s = 0;
        for (int k = 0; k <= steps; k++) {
            double t = k * h, f = Math.exp(-t * t / 2);
            s += (k == 0 || k == steps ? 1 : k % 2 == 1 ? 4 : 2) * f;
        }
        return 0.5 + s * h / 3 / Math.sqrt(2 * Math.PI);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("seeds")
    void normalStatistics(long seed) {
        int n = 200_000;
        float[] v = Tensor.randn(new Philox(seed, 1000), n).toFloatArray();
        double mean = 0, m2 = 0, m4 = 0, pair = 0;
        for (float x : v) mean += x;
        mean /= n;
        for (int i = 0; i < n; i++) {
            double c = v[i] - mean;
            m2 += c * c;
            m4 += c * c * c * c;
            if (i % 2 == 0) pair += v[i] * (double) v[i + 1];
        }
        m2 /= n;
        m4 /= n;
        pair /= n / 2.0;
        assertEquals(0, mean, 5 / Math.sqrt(n), "mean");
        assertEquals(1, m2, 5 * Math.sqrt(2.0 / n), "variance");
        assertEquals(3, m4 / (m2 * m2), 5 * Math.sqrt(24.0 / n), "kurtosis");
        assertEquals(0, pair, 5 / Math.sqrt(n / 2.0), "correlation of the two values of a Box-Muller pair");
        float[] sorted = v.clone();
        Arrays.sort(sorted);
        double d = 0;
        for (double x = -4; x <= 4; x += 0.05) {
            int below = lowerBound(sorted, (float) x);
            d = Math.max(d, Math.abs((double) below / n - phi(x)));
        }
        assertTrue(d < 1.95 / Math.sqrt(n), "Kolmogorov-Smirnov distance (on a grid) " + d + " above the 0.1% critical value");
    }

    private static int lowerBound(float[] sorted, float x) {
        int lo = 0, hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < x) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    @Test
    void sameSeedAndCounterGiveTheSameTensor() {
        assertArrayEquals(Tensor.rand(new Philox(3, 9), 4, 6).toFloatArray(), Tensor.rand(new Philox(3, 9), 4, 6).toFloatArray());
        assertArrayEquals(Tensor.randn(new Philox(3, 9), 4, 6).toFloatArray(), Tensor.randn(new Philox(3, 9), 4, 6).toFloatArray());
        assertFalse(Arrays.equals(Tensor.rand(new Philox(3), 8).toFloatArray(), Tensor.rand(new Philox(4), 8).toFloatArray()), "seeds 3 and 4 gave the same values");
    }

    @Test
    void drawsAdvanceTheGenerator() {
        Philox rng = new Philox(11);
        float[] a = Tensor.rand(rng, 10).toFloatArray();
        assertEquals(3, rng.counter(), "10 values take 3 blocks of 4");
        float[] b = Tensor.rand(rng, 10).toFloatArray();
        assertFalse(Arrays.equals(a, b), "two draws from one generator are equal");
        float[] c = Tensor.randn(rng, 10).toFloatArray();
        float[] d = Tensor.randn(rng, 10).toFloatArray();
        assertFalse(Arrays.equals(c, d), "two normal draws from one generator are equal");
        assertEquals(12, rng.counter());
    }

    @Test
    void oneDrawEqualsTwoDrawsWhenBlocksLineUp() {
        for (boolean normal : new boolean[] {false, true}) {
            Philox whole = new Philox(42, 100), parts = new Philox(42, 100);
            float[] all = draw(whole, normal, 4 * 5 + 3);
            float[] first = draw(parts, normal, 4 * 3);   // ends on a block boundary
            float[] second = draw(parts, normal, 4 * 2 + 3);
            float[] joined = Arrays.copyOf(first, all.length);
            System.arraycopy(second, 0, joined, first.length, second.length);
            assertArrayEquals(all, joined, normal ? "normal" : "uniform");
            assertEquals(whole.counter(), parts.counter());
        }
    }

    @Test
    void aDrawThatEndsInsideABlockSkipsTheRestOfIt() {
        Philox rng = new Philox(8);
        Tensor.rand(rng, 2);
        float[] next = Tensor.rand(rng, 4).toFloatArray();
        float[] fromBlock1 = Tensor.rand(new Philox(8, 1), 4).toFloatArray();
        assertArrayEquals(fromBlock1, next);
    }

    @Test
    void emptyAndScalarDraws() {
        Philox rng = new Philox(1);
        assertEquals(0, Tensor.rand(rng, 0, 3).toFloatArray().length);
        assertEquals(0, rng.counter());
        float s = Tensor.randn(rng).item();
        assertTrue(Float.isFinite(s));
        assertEquals(1, rng.counter());
    }

    private static float[] draw(Philox rng, boolean normal, int n) {
        return (normal ? Tensor.randn(rng, n) : Tensor.rand(rng, n)).toFloatArray();
    }
}
