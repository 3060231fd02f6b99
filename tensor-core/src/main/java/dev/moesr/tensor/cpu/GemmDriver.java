package dev.moesr.tensor.cpu;

/**
 * The cache-blocked GEMM loop nest, C = alpha * op(A) op(B) + beta * C, in the layout of
 * Goto's method: for each block of kc rows of op(B) and nc of its columns, pack that panel
 * once into nr-wide slivers (shared by all threads, sized for L3), then for each block of mc
 * rows of op(A) pack it into mr-tall slivers (per thread, sized for L2) and sweep the
 * micro-kernel over the tiles, each B sliver staying in L1 while the A slivers pass by it.
 *
 * <p>The operands are reached only through their packing routines ({@link LeftSource},
 * {@link RightSource}), so the convolution can pack its im2col panels straight from the image
 * (an implicit GEMM) instead of writing the im2col matrix out first.
 */
final class GemmDriver {
    /** Rows of op(A) per block packed for L2 (a multiple of every kernel's mr). */
    static final int MC = 128;
    /** Depth of one packed block; k is split into equal steps of at most this. */
    static final int KC = 512;
    /** Columns of op(B) per packed panel (a multiple of every kernel's nr). */
    static final int NC = 4096;
    /**
     * Below this many multiply-adds (about 320^3) a product stays on the calling thread: handing
     * work to the pool and waking its threads costs some 50 microseconds per parallel loop here,
     * and a 256^3 product takes only about 0.35 ms on one core.
     */
    static final long PARALLEL_MIN_FMAS = 1L << 25;
    /** Floats each thread should pack at least when the B panel is packed in parallel. */
    private static final int PACK_GRAIN_FLOATS = 1 << 14;
    /** Rows of a row-major B packed in one pass over its columns. */
    private static final int ROWS_PER_PASS = 16;

    private GemmDriver() {}

    /** The left operand: op(A), m x k. */
    interface LeftSource {
        /**
         * Packs rows [i0, i0+rows) and columns [p0, p0+kc) of op(A) into slivers of mr rows:
         * {@code dst[s*kc*mr + p*mr + i] = op(A)[i0 + s*mr + i, p0 + p]}, zero past the last row.
         */
        void packLeft(float[] dst, int i0, int rows, int p0, int kc, int mr);
    }

    /** The right operand: op(B), k x n. */
    interface RightSource {
        /**
         * Packs rows [p0, p0+kc) and columns [j0, j0+cols) of op(B) into slivers of nr columns
         * starting at {@code dOff}: {@code dst[dOff + s*kc*nr + p*nr + j] = op(B)[p0 + p, j0 + s*nr + j]},
         * zero past the last column.
         */
        void packRight(float[] dst, int dOff, int p0, int kc, int j0, int cols, int nr);
    }

    /** A row-major matrix in a float array, read as itself or as its transpose. */
    static final class Dense implements LeftSource, RightSource {
        private final float[] data;
        private final int off, ld;
        private final boolean trans;

        /** op(M)[r, c] is {@code data[off + r*ld + c]}, or {@code data[off + c*ld + r]} when {@code trans}. */
        Dense(float[] data, int off, int ld, boolean trans) {
            this.data = data;
            this.off = off;
            this.ld = ld;
            this.trans = trans;
        }

        @Override public void packLeft(float[] dst, int i0, int rows, int p0, int kc, int mr) {
            for (int s = 0; s * mr < rows; s++) {
                int base = s * kc * mr, r0 = i0 + s * mr, live = Math.min(mr, rows - s * mr);
                if (!trans) {
                    // rows of A are contiguous in p: read along them, write with stride mr
                    for (int i = 0; i < live; i++) {
                        int src = off + (r0 + i) * ld + p0;
                        for (int p = 0, d = base + i; p < kc; p++, d += mr) dst[d] = data[src + p];
                    }
                    for (int i = live; i < mr; i++) {
                        for (int p = 0, d = base + i; p < kc; p++, d += mr) dst[d] = 0f;
                    }
                } else {
                    for (int p = 0; p < kc; p++) {
                        int d = base + p * mr;
                        System.arraycopy(data, off + (p0 + p) * ld + r0, dst, d, live);
                        for (int i = live; i < mr; i++) dst[d + i] = 0f;
                    }
                }
            }
        }

        @Override public void packRight(float[] dst, int dOff, int p0, int kc, int j0, int cols, int nr) {
            if (!trans) {
                // a few rows at a time across all slivers: the rows stay in cache and each sliver is written in runs
                for (int pb = 0; pb < kc; pb += ROWS_PER_PASS) {
                    int pEnd = Math.min(kc, pb + ROWS_PER_PASS);
                    for (int s = 0; s * nr < cols; s++) {
                        int base = dOff + s * kc * nr, c0 = j0 + s * nr, live = Math.min(nr, cols - s * nr);
                        for (int p = pb; p < pEnd; p++) {
                            int d = base + p * nr;
                            System.arraycopy(data, off + (p0 + p) * ld + c0, dst, d, live);
                            for (int j = live; j < nr; j++) dst[d + j] = 0f;
                        }
                    }
                }
                return;
            }
            for (int s = 0; s * nr < cols; s++) {
                int base = dOff + s * kc * nr, c0 = j0 + s * nr, live = Math.min(nr, cols - s * nr);
                for (int j = 0; j < live; j++) {
                    int src = off + (c0 + j) * ld + p0;
                    for (int p = 0, d = base + j; p < kc; p++, d += nr) dst[d] = data[src + p];
                }
                for (int j = live; j < nr; j++) {
                    for (int p = 0, d = base + j; p < kc; p++, d += nr) dst[d] = 0f;
                }
            }
        }
    }

    /** Per-thread packing buffers, grown on demand and kept for the next call. */
    private static final class Workspace {
        private static final ThreadLocal<Workspace> LOCAL = ThreadLocal.withInitial(Workspace::new);
        float[] left = new float[0], right = new float[0], tile = new float[0];

        static Workspace get() { return LOCAL.get(); }

        float[] left(int n) { return left.length >= n ? left : (left = new float[n]); }

        float[] right(int n) { return right.length >= n ? right : (right = new float[n]); }

        float[] tile(int n) { return tile.length >= n ? tile : (tile = new float[n]); }
    }

    /**
     * C[cOff + i*ldc + j] = alpha * (op(A) op(B))[i, j] + beta * C[...] for the m x n block; with
     * beta 0, C is not read. Runs on the {@link Parallel} threads when {@code parallel} and the
     * product is large enough.
     */
    static void multiply(MicroKernel kern, int m, int n, int k, LeftSource a, RightSource b,
                         float[] c, int cOff, int ldc, float alpha, float beta, boolean parallel) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            scale(c, cOff, ldc, m, n, beta);
            return;
        }
        final int mr = kern.mr, nr = kern.nr;
        final boolean par = parallel && (long) m * n * k >= PARALLEL_MIN_FMAS;
        final int kcMax = ceilDiv(k, ceilDiv(k, KC));          // equal steps rather than a thin last one
        final int ncMax = Math.min(NC, ceilDiv(n, nr) * nr);
        final float[] bPack = Workspace.get().right(kcMax * ncMax);
        for (int jc = 0; jc < n; jc += NC) {
            final int j0 = jc, nc = Math.min(NC, n - jc), slivers = ceilDiv(nc, nr);
            for (int pc = 0; pc < k; pc += kcMax) {
                final int p0 = pc, kc = Math.min(kcMax, k - pc);
                final float betaHere = pc == 0 ? beta : 1f;
                int packGrain = par ? Math.max(1, PACK_GRAIN_FLOATS / (kc * nr)) : Integer.MAX_VALUE;
                Parallel.forRange(slivers, packGrain, (s0, s1) ->
                        b.packRight(bPack, s0 * kc * nr, p0, kc, j0 + s0 * nr, Math.min(nc, s1 * nr) - s0 * nr, nr));

                final int mBlocks = ceilDiv(m, MC);
                // split the columns too when there are few row blocks, so every thread gets work
                final int chunks = par ? Math.min(slivers, Math.max(1, ceilDiv(4 * Parallel.threads(), mBlocks))) : 1;
                Parallel.forRange(mBlocks * chunks, par ? 1 : Integer.MAX_VALUE, (t0, t1) -> {
                    Workspace ws = Workspace.get();
                    float[] aPack = ws.left(Math.min(MC, ceilDiv(m, mr) * mr) * kc);
                    float[] tile = ws.tile(mr * nr);
                    int packedBlock = -1;
                    for (int t = t0; t < t1; t++) {
                        int ib = t / chunks, ch = t % chunks;
                        int i0 = ib * MC, mc = Math.min(MC, m - i0);
                        if (ib != packedBlock) {
                            a.packLeft(aPack, i0, mc, p0, kc, mr);
                            packedBlock = ib;
                        }
                        int sFrom = (int) ((long) ch * slivers / chunks), sTo = (int) ((long) (ch + 1) * slivers / chunks);
                        for (int s = sFrom; s < sTo; s++) {
                            int col = j0 + s * nr, cols = Math.min(nr, j0 + nc - col);
                            int bOff = s * kc * nr;
                            for (int ir = 0; ir < mc; ir += mr) {
                                int rows = Math.min(mr, mc - ir);
                                int cAt = cOff + (i0 + ir) * ldc + col;
                                kern.product(kc, aPack, ir * kc, bPack, bOff, tile);
                                if (rows == mr && cols == nr) kern.merge(tile, c, cAt, ldc, alpha, betaHere);
                                else kern.mergePart(tile, c, cAt, ldc, alpha, betaHere, rows, cols);
                            }
                        }
                    }
                });
            }
        }
    }

    /** C = beta * C over an m x n block (zeros when beta is 0, whatever C held). */
    static void scale(float[] c, int cOff, int ldc, int m, int n, float beta) {
        for (int i = 0; i < m; i++) {
            int o = cOff + i * ldc;
            if (beta == 0f) java.util.Arrays.fill(c, o, o + n, 0f);
            else if (beta != 1f) for (int j = 0; j < n; j++) c[o + j] *= beta;
        }
    }

    static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
