package dev.moesr.tensor.cpu;

/**
 * Batched single-precision GEMM, {@code C_b = alpha * op(A_b) op(B_b) + beta * C_b}, row-major,
 * with the semantics of {@link dev.moesr.tensor.backend.Backend#matmul}. Large products go
 * through the packed, cache-blocked {@link GemmDriver} with the Vector API micro-kernel (or a
 * scalar one when the jdk.incubator.vector module is not loaded); small ones, and matrix-vector
 * products, through a plain loop.
 */
public final class CpuGemm {
    /** Products with fewer multiply-adds than this take the plain loop: packing would cost more than it saves. */
    static final long SMALL_FMAS = 32L * 32 * 32;

    private CpuGemm() {}

    /** Whether the fast path runs on the Vector API in this JVM. */
    public static boolean vectorized() { return MicroKernel.vectorized(); }

    static void batched(CpuStorage a, CpuStorage b, CpuStorage c, int batch, int m, int n, int k,
                        boolean transA, boolean transB, long strideA, long strideB, long strideC, float alpha, float beta) {
        batched(MicroKernel.best(), a, b, c, batch, m, n, k, transA, transB, strideA, strideB, strideC, alpha, beta);
    }

    /** The same with a chosen micro-kernel (tests run both kernels). */
    static void batched(MicroKernel kern, CpuStorage a, CpuStorage b, CpuStorage c, int batch, int m, int n, int k,
                        boolean transA, boolean transB, long strideA, long strideB, long strideC, float alpha, float beta) {
        check(batch, m, n, k, strideA, strideB, strideC);
        checkFits("A", a, batch, strideA, (long) m * k);
        checkFits("B", b, batch, strideB, (long) k * n);
        checkFits("C", c, batch, strideC, (long) m * n);
        if (batch == 0 || m == 0 || n == 0) return;
        long fmas = (long) m * n * k;
        boolean plain = fmas < SMALL_FMAS || m == 1 || n == 1;
        Parallel.RangeBody one = (b0, b1) -> {
            for (int i = b0; i < b1; i++) {
                int ao = a.base + (int) (i * strideA), bo = b.base + (int) (i * strideB), co = c.base + (int) (i * strideC);
                if (plain) {
                    plain(a.data, ao, b.data, bo, c.data, co, m, n, k, transA, transB, alpha, beta);
                } else {
                    GemmDriver.multiply(kern, m, n, k,
                            new GemmDriver.Dense(a.data, ao, transA ? m : k, transA),
                            new GemmDriver.Dense(b.data, bo, transB ? k : n, transB),
                            c.data, co, n, alpha, beta, true);
                }
            }
        };
        if (batch > 1 && fmas < GemmDriver.PARALLEL_MIN_FMAS) {
            // products too small to split: spread the batch over the threads, whole products per task
            Parallel.forRange(batch, (int) Math.max(1, (1L << 20) / Math.max(1, fmas)), one);
        } else if (plain && batch == 1 && fmas >= (1L << 21)) {
            // a big matrix-vector product: split its rows
            plainParallel(a.data, a.base, b.data, b.base, c.data, c.base, m, n, k, transA, transB, alpha, beta);
        } else {
            one.run(0, batch);
        }
    }

    /**
     * The plain loop: C row by row, {@code C[i,:] = beta*C[i,:] + alpha * sum_p A[i,p] B[p,:]}; the
     * inner loop runs along a contiguous row of B when it can, which the JIT vectorises.
     */
    static void plain(float[] a, int ao, float[] b, int bo, float[] c, int co, int m, int n, int k,
                      boolean transA, boolean transB, float alpha, float beta) {
        plainRows(a, ao, b, bo, c, co, 0, m, m, n, k, transA, transB, alpha, beta);
    }

    private static void plainParallel(float[] a, int ao, float[] b, int bo, float[] c, int co, int m, int n, int k,
                                  boolean transA, boolean transB, float alpha, float beta) {
        Parallel.forRange(m, Math.max(1, (int) ((1L << 20) / Math.max(1L, (long) n * k))),
                (i0, i1) -> plainRows(a, ao, b, bo, c, co, i0, i1, m, n, k, transA, transB, alpha, beta));
    }

    private static void plainRows(float[] a, int ao, float[] b, int bo, float[] c, int co, int i0, int i1, int m, int n, int k,
                                  boolean transA, boolean transB, float alpha, float beta) {
        for (int i = i0; i < i1; i++) {
            int cr = co + i * n;
            if (!transB) {
                GemmDriver.scale(c, cr, n, 1, n, beta);
                for (int p = 0; p < k; p++) {
                    float x = alpha * (transA ? a[ao + p * m + i] : a[ao + i * k + p]);
                    int br = bo + p * n;
                    for (int j = 0; j < n; j++) c[cr + j] += x * b[br + j];
                }
            } else {
                for (int j = 0; j < n; j++) {
                    int br = bo + j * k;
                    float s = 0f;
                    if (transA) {
                        for (int p = 0; p < k; p++) s += a[ao + p * m + i] * b[br + p];
                    } else {
                        int ar = ao + i * k;
                        for (int p = 0; p < k; p++) s += a[ar + p] * b[br + p];
                    }
                    c[cr + j] = beta == 0f ? alpha * s : alpha * s + beta * c[cr + j];
                }
            }
        }
    }

    private static void check(int batch, int m, int n, int k, long strideA, long strideB, long strideC) {
        if (batch < 0 || m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("matmul sizes must be >= 0: batch " + batch + ", m " + m + ", n " + n + ", k " + k);
        }
        if (strideA < 0 || strideB < 0 || strideC < 0) {
            throw new IllegalArgumentException("matmul batch strides must be >= 0: " + strideA + ", " + strideB + ", " + strideC);
        }
        if (batch > 1 && strideC < (long) m * n) {
            throw new IllegalArgumentException("matmul output batch stride " + strideC + " is smaller than one " + m + "x" + n
                    + " result: the products would overwrite each other");
        }
    }

    private static void checkFits(String name, CpuStorage s, int batch, long stride, long size) {
        if (batch == 0 || size == 0) return;
        long end = (batch - 1) * stride + size;
        if (end > s.length()) {
            throw new IllegalArgumentException("matmul operand " + name + " holds " + s.length() + " floats but " + batch
                    + " matrices of " + size + " with batch stride " + stride + " need " + end);
        }
    }
}
