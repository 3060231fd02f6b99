package dev.moesr.tensor.cpu;

import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** CpuGemm against a double-precision triple loop, through both micro-kernels and the plain path. */
class CpuGemmTest {
    /** Sizes around the kernel tiles (8 x 32, 4 x 4) and blocks (128, 256): 1, odd, one past a multiple. */
    private static final int[] SIZES = {1, 2, 7, 8, 9, 17, 33, 65, 130, 257};

    static Stream<Long> cases() { return Gen.seeds("cpu-gemm", 60); }

    /** One random strided batched product, checked with the given kernel. */
    private static void checkCase(long seed, MicroKernel kern) {
        Gen g = new Gen(seed);
        int m = pickSize(g), n = pickSize(g), k = pickSize(g);
        int batch = g.nextInt(1, 3);
        boolean ta = g.nextBoolean(), tb = g.nextBoolean();
        // a shared (stride 0) operand now and then, and padding between batch entries
        long sa = batch > 1 && g.nextInt(0, 3) == 0 ? 0 : (long) m * k + g.nextInt(0, 3);
        long sb = batch > 1 && g.nextInt(0, 3) == 0 ? 0 : (long) k * n + g.nextInt(0, 3);
        long sc = (long) m * n + g.nextInt(0, 3);
        float alpha = g.pick(new Float[] {1f, -0.5f, 2f});
        float beta = g.pick(new Float[] {0f, 1f, 0.75f});
        checkProduct(kern, g, batch, m, n, k, ta, tb, sa, sb, sc, alpha, beta, "seed " + seed);
    }

    private static int pickSize(Gen g) {
        return g.nextInt(0, 2) == 0 ? g.nextInt(1, 40) : SIZES[g.nextInt(0, SIZES.length - 1)];
    }

    static void checkProduct(MicroKernel kern, Gen g, int batch, int m, int n, int k, boolean ta, boolean tb,
                             long sa, long sb, long sc, float alpha, float beta, String label) {
        float[] a = g.floats((int) (sa * Math.max(0, batch - 1) + (long) m * k), -1, 1);
        float[] b = g.floats((int) (sb * Math.max(0, batch - 1) + (long) k * n), -1, 1);
        float[] c = g.floats((int) (sc * Math.max(0, batch - 1) + (long) m * n), -1, 1);
        if (beta == 0f) Arrays.fill(c, Float.NaN);     // beta 0 must not read C
        float[] c0 = c.clone();
        CpuGemm.batched(kern, new CpuStorage(a), new CpuStorage(b), new CpuStorage(c), batch, m, n, k, ta, tb, sa, sb, sc, alpha, beta);
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0, mag = 0;
                    for (int p = 0; p < k; p++) {
                        double x = a[(int) (bi * sa) + (ta ? p * m + i : i * k + p)];
                        double y = b[(int) (bi * sb) + (tb ? j * k + p : p * n + j)];
                        s += x * y;
                        mag += Math.abs(x * y);
                    }
                    int at = (int) (bi * sc) + i * n + j;
                    double want = alpha * s + (beta == 0f ? 0 : beta * (double) c0[at]);
                    double tol = 1e-5 + 1e-5 * (Math.abs(alpha) * mag + Math.abs(beta));
                    if (!(Math.abs(c[at] - want) <= tol)) {
                        fail(label + " " + kern.getClass().getSimpleName() + ": batch " + bi + " C[" + i + "," + j + "] = " + c[at]
                                + ", want " + want + " (m " + m + " n " + n + " k " + k + " transA " + ta + " transB " + tb
                                + " alpha " + alpha + " beta " + beta + ")");
                    }
                }
            }
            // padding between batch entries is left alone
            for (int at = (int) (bi * sc) + m * n; bi < batch - 1 && at < (bi + 1) * sc; at++) {
                assertEquals(c0[at], c[at], 0f, label + ": wrote past the end of C in batch " + bi);
            }
        }
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void bestKernel(long seed) { checkCase(seed, MicroKernel.best()); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void scalarKernel(long seed) { checkCase(seed, ScalarMicroKernel.INSTANCE); }

    @Test
    void vectorKernelIsUsedWhenTheModuleIsLoaded() {
        // the tests run with --add-modules jdk.incubator.vector
        assertTrue(CpuGemm.vectorized(), "the Vector API micro-kernel should be active");
    }

    @Test
    void blockEdgesInEveryDirection() {
        Gen g = new Gen(11);
        // k over two depth blocks, n over one column panel, m over one row block; each with transposes
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                checkProduct(MicroKernel.best(), g, 1, 131, 70, 513, ta, tb, 0, 0, 0, 1f, 0f, "deep");
                checkProduct(MicroKernel.best(), g, 1, 9, GemmDriver.NC + 37, 5, ta, tb, 0, 0, 0, 0.5f, 1f, "wide");
            }
        }
        // big enough to be split over the threads
        assertTrue(257L * 260 * 513 >= GemmDriver.PARALLEL_MIN_FMAS);
        checkProduct(MicroKernel.best(), g, 1, 257, 260, 513, false, false, 0, 0, 0, 1f, 0f, "parallel");
        checkProduct(MicroKernel.best(), g, 1, 257, 260, 513, true, true, 0, 0, 0, -1f, 0.5f, "parallel-t");
    }

    @Test
    void bigMatrixVectorProductsSplitTheirRows() {
        Gen g = new Gen(12);
        checkProduct(MicroKernel.best(), g, 1, 4000, 1, 600, false, false, 0, 0, 0, 1f, 0f, "gemv");
        checkProduct(MicroKernel.best(), g, 1, 4000, 1, 600, true, true, 0, 0, 0, 1f, 0.5f, "gemv-t");
        checkProduct(MicroKernel.best(), g, 1, 1, 4000, 600, false, false, 0, 0, 0, 1f, 0f, "gevm");
    }

    @Test
    void manySmallProductsSpreadOverTheBatch() {
        Gen g = new Gen(13);
        checkProduct(MicroKernel.best(), g, 64, 16, 24, 40, false, true, 16 * 40, 0, 16 * 24, 1f, 0f, "batch");
    }

    @Test
    void emptyInnerDimensionGivesBetaTimesC() {
        float[] c = {1, 2, 3, 4};
        CpuGemm.batched(new CpuStorage(new float[0]), new CpuStorage(new float[0]), new CpuStorage(c), 1, 2, 2, 0,
                false, false, 0, 0, 4, 1f, 0.5f);
        assertEquals(Arrays.toString(new float[] {0.5f, 1, 1.5f, 2}), Arrays.toString(c));
        float[] nan = {Float.NaN, Float.NaN};
        CpuGemm.batched(new CpuStorage(new float[0]), new CpuStorage(new float[0]), new CpuStorage(nan), 1, 1, 2, 0,
                false, false, 0, 0, 2, 1f, 0f);
        assertEquals(Arrays.toString(new float[] {0, 0}), Arrays.toString(nan));
    }

    @Test
    void operandsTooSmallForTheBatchAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> CpuGemm.batched(new CpuStorage(new float[6]),
                new CpuStorage(new float[6]), new CpuStorage(new float[8]), 2, 2, 2, 3, false, false, 6, 0, 4, 1f, 0f));
        assertTrue(e.getMessage().contains("operand A") && e.getMessage().contains("need 12"), e.getMessage());
    }
}
