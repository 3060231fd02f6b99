package dev.moesr.app.degrade;

import dev.moesr.tensor.testing.Gen;
import dev.moesr.app.testing.Fixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class FiltersTest {

    @Test
    void filter2dMatchesPyTorchReflectPaddingAndConv2d() {
        Fixture f = new Fixture("/degrade_fixture.txt");
        double[] dims = f.doubles("filter_in");
        int c = (int) dims[0], h = (int) dims[1], w = (int) dims[2];
        float[] img = f.floats("filter_in", 3);
        for (int i = 0; i < 2; i++) {
            int size = Integer.parseInt(f.tokens("filter" + i)[0]);
            Kernel k = new Kernel(size, f.doubles("filter" + i + "_k"));
            float[] got = Filters.filter2d(img, c, h, w, k);
            double[] expected = f.doubles("filter" + i + "_out");
            for (int j = 0; j < got.length; j++) assertEquals(expected[j], got[j], 1e-6, "kernel " + size + " at " + j);
        }
    }

    static Stream<Long> seeds() { return Gen.seeds("filters", 12); }

    /** filter2d against a plain loop with the reflection written out, and the separable path against filter2d. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void filtersMatchADirectDoubleLoop(long seed) {
        Gen cs = new Gen(seed);
        int c = cs.nextInt(1, 3), h = cs.nextInt(1, 14), w = cs.nextInt(1, 14), size = 2 * cs.nextInt(0, 5) + 1;
        float[] img = cs.floats(c * h * w, 0, 1);
        double[] g = cs.doubles(size, 0, 1);
        double[] outer = new double[size * size];
        for (int i = 0; i < size; i++) for (int j = 0; j < size; j++) outer[i * size + j] = g[i] * g[j];
        double[] k2 = cs.doubles(size * size, -0.2, 1);
        float[] got = Filters.filter2d(img, c, h, w, new Kernel(size, k2));
        float[] sep = Filters.separable(img, c, h, w, g);
        float[] full = Filters.filter2d(img, c, h, w, new Kernel(size, outer));
        int r = size / 2;
        for (int ch = 0; ch < c; ch++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double s = 0;
                    for (int i = 0; i < size; i++) {
                        for (int j = 0; j < size; j++) {
                            s += k2[i * size + j] * img[(ch * h + reflect(y + i - r, h)) * w + reflect(x + j - r, w)];
                        }
                    }
                    int at = (ch * h + y) * w + x;
                    assertEquals(s, got[at], 1e-5, "filter2d " + h + "x" + w + " k" + size + " at " + at);
                    assertEquals(full[at], sep[at], 1e-5, "separable at " + at);
                }
            }
        }
    }

    /** Mirror without repeating the edge, bouncing as often as needed. */
    static int reflect(int i, int n) {
        if (n == 1) return 0;
        while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
        return i;
    }

    @Test
    void reflectionDoesNotRepeatTheEdge() {
        int[] idx = Filters.reflectIndex(4, 3);
        assertArrayEquals(new int[] {3, 2, 1, 0, 1, 2, 3, 2, 1, 0}, idx);
        assertArrayEquals(new int[] {0, 0, 0}, Filters.reflectIndex(1, 1));
    }

    @Test
    void normalisedKernelsKeepConstantsAndIdentityCopies() {
        float[] flat = new float[2 * 5 * 6];
        java.util.Arrays.fill(flat, 0.3f);
        for (float v : Filters.filter2d(flat, 2, 5, 6, BlurKernels.gaussian(21, 1.5, 0.4, 1))) assertEquals(0.3f, v, 1e-6);
        float[] img = new Gen(4).floats(30, 0, 1);
        float[] copy = Filters.filter2d(img, 1, 5, 6, Kernel.identity().padTo(21));
        assertArrayEquals(img, copy);
        assertNotSame(img, copy);
        assertThrows(IllegalArgumentException.class, () -> Filters.filter2d(new float[5], 1, 2, 3, Kernel.identity()));
    }
}
