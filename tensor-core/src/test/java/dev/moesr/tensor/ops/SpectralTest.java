package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SpectralTest {

    static Stream<Long> cases() { return Gen.seeds("spectral", 30); }

    /** Sizes with radix-2, Bluestein, odd, prime and trivial cases. */
    static final Integer[] SIZES = {1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 16};

    /** [leading..., h, w]: 0 to 2 leading dimensions. */
    static int[] planeShape(Gen g) {
        int lead = g.nextInt(0, 2);
        int[] s = new int[lead + 2];
        for (int i = 0; i < lead; i++) s[i] = g.nextInt(1, 3);
        s[lead] = g.pick(SIZES);
        s[lead + 1] = g.pick(SIZES);
        return s;
    }

    // ---- references: the definitions, by plain loops in double ---------------------------------

    /**
     * 1-D DFT along one axis of complex data (interleaved) viewed as [outer, n, inner]:
     * out_k = sum_j x_j exp(sign * 2 pi i jk / n), unscaled.
     */
    static double[] dft(double[] x, int outer, int n, int inner, int sign) {
        double[] out = new double[x.length];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                for (int k = 0; k < n; k++) {
                    double re = 0, im = 0;
                    for (int j = 0; j < n; j++) {
                        double angle = sign * 2 * Math.PI * ((long) j * k % n) / n;
                        int at = 2 * ((o * n + j) * inner + i);
                        re += x[at] * Math.cos(angle) - x[at + 1] * Math.sin(angle);
                        im += x[at] * Math.sin(angle) + x[at + 1] * Math.cos(angle);
                    }
                    int to = 2 * ((o * n + k) * inner + i);
                    out[to] = re;
                    out[to + 1] = im;
                }
            }
        }
        return out;
    }

    /** The orthonormal 2-D DFT of complex [..., h, w, 2] data. */
    static double[] dft2(double[] x, int batch, int h, int w, int sign) {
        double[] rows = dft(x, batch * h, w, 1, sign);
        double[] both = dft(rows, batch, h, w, sign);
        double scale = 1 / Math.sqrt((double) h * w);
        for (int i = 0; i < both.length; i++) both[i] *= scale;
        return both;
    }

    static int batchOf(int[] s, int planeRank) {
        int b = 1;
        for (int i = 0; i < s.length - planeRank; i++) b *= s[i];
        return b;
    }

    static Ref fft2Ref(Ref z, int sign) {
        int r = z.rank();
        int h = z.shape[r - 3], w = z.shape[r - 2];
        return new Ref(dft2(z.v, batchOf(z.shape, 3), h, w, sign), z.shape);
    }

    static Ref rfft2Ref(Ref x) {
        int r = x.rank();
        int h = x.shape[r - 2], w = x.shape[r - 1], wc = w / 2 + 1, b = batchOf(x.shape, 2);
        double[] z = new double[2 * x.numel()];
        for (int i = 0; i < x.numel(); i++) z[2 * i] = x.v[i];
        double[] full = dft2(z, b, h, w, -1);
        int[] os = Arrays.copyOf(x.shape, r + 1);
        os[r - 1] = wc;
        os[r] = 2;
        Ref out = Ref.zeros(os);
        for (int p = 0; p < b * h; p++) System.arraycopy(full, 2 * p * w, out.v, 2 * p * wc, 2 * wc);
        return out;
    }

    /** numpy.fft.irfft2(x, s=(h, w), norm="ortho"): ifft over h, then a Hermitian c2r over w. */
    static Ref irfft2Ref(Ref x, int w) {
        int r = x.rank();
        int h = x.shape[r - 3], wc = x.shape[r - 2], b = batchOf(x.shape, 3);
        double[] cols = dft(x.v, b, h, wc, +1);
        int[] os = Arrays.copyOf(x.shape, r - 1);
        os[r - 2] = w;
        Ref out = Ref.zeros(os);
        for (int p = 0; p < b * h; p++) {
            for (int c = 0; c < w; c++) {
                double sum = 0;
                for (int k = 0; k < w; k++) {
                    boolean stored = k < wc;
                    int at = 2 * (p * wc + (stored ? k : w - k));
                    double re = cols[at], im = stored ? cols[at + 1] : -cols[at + 1];
                    double angle = 2 * Math.PI * ((long) k * c % w) / w;
                    sum += re * Math.cos(angle) - im * Math.sin(angle);
                }
                out.v[p * w + c] = sum / Math.sqrt((double) h * w);
            }
        }
        return out;
    }

    static Tensor complexLeaf(Gen g, int[] shape) {
        return Tensor.ofComplex(g.floats(2 * Gen.numel(shape), -1, 1), shape).requiresGrad();
    }

    // ---- forward and gradient against the references ------------------------------------------

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void fft2(long seed) {
        Gen g = new Gen(seed);
        OpCheck.of("fft2", seed).run(in -> in[0].fft2(), r -> fft2Ref(r[0], -1), complexLeaf(g, planeShape(g)));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void ifft2(long seed) {
        Gen g = new Gen(seed);
        OpCheck.of("ifft2", seed).run(in -> in[0].ifft2(), r -> fft2Ref(r[0], +1), complexLeaf(g, planeShape(g)));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void fft2OfRealInput(long seed) {
        Gen g = new Gen(seed);
        OpCheck.of("fft2 of real", seed).run(in -> in[0].fft2(), r -> {
            double[] z = new double[2 * r[0].numel()];
            for (int i = 0; i < r[0].numel(); i++) z[2 * i] = r[0].v[i];
            return fft2Ref(new Ref(z, ComplexOpsTest.withPair(r[0].shape)), -1);
        }, g.leaf(planeShape(g), -1, 1));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void rfft2(long seed) {
        Gen g = new Gen(seed);
        OpCheck.of("rfft2", seed).run(in -> in[0].rfft2(), r -> rfft2Ref(r[0]), g.leaf(planeShape(g), -1, 1));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void irfft2(long seed) {
        Gen g = new Gen(seed);
        int[] s = planeShape(g);
        int w = s[s.length - 1];
        s[s.length - 1] = w / 2 + 1;
        OpCheck.of("irfft2", seed).run(in -> in[0].irfft2(w), r -> irfft2Ref(r[0], w), complexLeaf(g, s));
    }

    // ---- properties ---------------------------------------------------------------------------

    private static void assertClose(float[] expected, float[] got, double tol, String what) {
        assertEquals(expected.length, got.length, what + ": length");
        for (int i = 0; i < got.length; i++) {
            assertTrue(Math.abs(expected[i] - got[i]) <= tol * (1 + Math.abs(expected[i])), what + " at " + i + ": " + got[i] + " vs " + expected[i]);
        }
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void roundTrips(long seed) {
        Gen g = new Gen(seed);
        int[] s = planeShape(g);
        Tensor z = Tensor.ofComplex(g.floats(2 * Gen.numel(s), -1, 1), s);
        assertClose(z.toFloatArray(), z.fft2().ifft2().toFloatArray(), 1e-6, "ifft2(fft2 z) " + Arrays.toString(s));
        assertClose(z.toFloatArray(), z.ifft2().fft2().toFloatArray(), 1e-6, "fft2(ifft2 z) " + Arrays.toString(s));
        Tensor x = Tensor.of(g.floats(Gen.numel(s), -1, 1), s);
        assertClose(x.toFloatArray(), x.rfft2().irfft2(s[s.length - 1]).toFloatArray(), 1e-6, "irfft2(rfft2 x) " + Arrays.toString(s));
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void energyIsPreserved(long seed) {
        Gen g = new Gen(seed);
        int[] s = planeShape(g);
        Tensor z = Tensor.ofComplex(g.floats(2 * Gen.numel(s), -1, 1), s);
        double before = z.abs().square().sum().item(), after = z.fft2().abs().square().sum().item();
        assertEquals(before, after, 1e-5 * before, "Parseval for " + Arrays.toString(s));
    }

    /** The 2-D DFT commutes with batching (reshape) and transposes with the plane (permute). */
    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void complexTensorsThroughReshapeAndPermute(long seed) {
        Gen g = new Gen(seed);
        int b = g.nextInt(1, 3), c = g.nextInt(1, 3), h = g.pick(SIZES), w = g.pick(SIZES);
        Tensor z = Tensor.ofComplex(g.floats(2 * b * c * h * w, -1, 1), b, c, h, w);
        assertClose(z.fft2().reshape(b * c, h, w).toFloatArray(), z.reshape(b * c, h, w).fft2().toFloatArray(), 1e-6, "reshape");
        assertClose(z.fft2().permute(1, 0, 3, 2).toFloatArray(), z.permute(1, 0, 3, 2).fft2().toFloatArray(), 1e-5, "permute");
    }

    @Test
    void largePlanesMatchTheReference() {
        Gen g = new Gen(7);
        int h = 97, w = 64;   // a prime (Bluestein) and a power of two, with a batch: the parallel paths
        int[] s = {3, h, w};
        Tensor z = Tensor.ofComplex(g.floats(2 * 3 * h * w, -1, 1), s);
        Ref ref = fft2Ref(OpCheck.toRef(z), -1);
        float[] got = z.fft2().toFloatArray();
        for (int i = 0; i < got.length; i++) assertEquals(ref.v[i], got[i], 2e-5 * (1 + Math.abs(ref.v[i])), "element " + i);
        Tensor x = z.real();
        assertClose(x.toFloatArray(), x.rfft2().irfft2(w).toFloatArray(), 1e-5, "irfft2(rfft2 x) 97 x 64");
        Tensor y = Tensor.of(g.floats(h * 45, -1, 1), h, 45);
        assertClose(y.toFloatArray(), y.rfft2().irfft2(45).toFloatArray(), 1e-5, "irfft2(rfft2 x) 97 x 45");
    }

    @Test
    void impulseAndConstant() {
        float[] impulse = new float[2 * 12];
        impulse[0] = 1;
        float[] spectrum = Tensor.ofComplex(impulse, 3, 4).fft2().toFloatArray();
        for (int i = 0; i < 12; i++) {
            assertEquals(1 / Math.sqrt(12), spectrum[2 * i], 1e-7);
            assertEquals(0, spectrum[2 * i + 1], 1e-7);
        }
        float[] constant = Tensor.full(2f, 5, 7).rfft2().toFloatArray();
        assertEquals(2 * Math.sqrt(35), constant[0], 1e-5);
        for (int i = 1; i < constant.length; i++) assertEquals(0, constant[i], 1e-5, "bin " + i / 2);
    }

    @Test
    void irfft2IgnoresTheImaginaryPartOfSelfConjugateBins() {
        // a 1 x 4 signal: bins 0 and 2 are their own mirror images
        Tensor a = Tensor.ofComplex(new float[] {1, 0, 0.5f, 0.25f, 2, 0}, 1, 3);
        Tensor b = Tensor.ofComplex(new float[] {1, 9, 0.5f, 0.25f, 2, -9}, 1, 3);
        assertArrayEquals(a.irfft2(4).toFloatArray(), b.irfft2(4).toFloatArray(), 1e-6f);
    }

    @Test
    void emptyBatch() {
        assertArrayEquals(new int[] {0, 3, 4}, Tensor.ofComplex(new float[0], 0, 3, 4).fft2().dims());
        assertArrayEquals(new int[] {0, 3, 3}, Tensor.zeros(0, 3, 4).rfft2().dims());
        assertArrayEquals(new int[] {0, 3, 5}, Tensor.ofComplex(new float[0], 0, 3, 3).irfft2(5).dims());
    }

    @Test
    void badInputSaysWhatWasWrong() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(5).rfft2());
        assertTrue(e.getMessage().contains("rank") && e.getMessage().contains("[5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.ofComplex(new float[2 * 12], 3, 4).irfft2(8));
        assertTrue(e.getMessage().contains("5 columns") && e.getMessage().contains("[3, 4]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.ofComplex(new float[2 * 12], 3, 4).rfft2());
        assertTrue(e.getMessage().contains("fft2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 0, 3).fft2());
        assertTrue(e.getMessage().contains("[2, 0, 3]"), e.getMessage());
    }
}
