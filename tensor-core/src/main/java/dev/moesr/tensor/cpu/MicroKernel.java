package dev.moesr.tensor.cpu;

/**
 * The innermost piece of the blocked GEMM: one mr x nr tile of A B from an A sliver (kc steps
 * of mr values) and a B sliver (kc steps of nr values), both packed by {@link GemmDriver}.
 * Implementations keep the whole tile in registers for the length of the k loop, then write
 * it to a small scratch tile; {@link #merge} applies alpha and beta on the way into C. (Doing
 * the alpha/beta update inside the k-loop method makes it too large for the JIT to inline the
 * Vector API calls of the stores, and unboxed vectors are what make it fast.)
 */
abstract class MicroKernel {
    /** Rows and columns of the tile this kernel computes. */
    final int mr, nr;

    MicroKernel(int mr, int nr) {
        this.mr = mr;
        this.nr = nr;
    }

    /** {@code tile[i*nr + j] = sum_p A[aOff + p*mr + i] * B[bOff + p*nr + j]} for the whole mr x nr tile. */
    abstract void product(int kc, float[] a, int aOff, float[] b, int bOff, float[] tile);

    /**
     * The same product with B read in place instead of packed: step p reads the nr values
     * {@code x[xBase + offs[p] + j]}. The direct convolution uses it, with offs[p] the offset
     * of input channel and kernel tap p in a padded image.
     */
    abstract void productIndexed(int kc, float[] a, int aOff, float[] x, int xBase, int[] offs, float[] tile);

    /** {@code C[cOff + i*ldc + j] = alpha * tile[i*nr + j] + beta * C[...]} over the full tile; C is not read when beta is 0. */
    void merge(float[] tile, float[] c, int cOff, int ldc, float alpha, float beta) {
        mergePart(tile, c, cOff, ldc, alpha, beta, mr, nr);
    }

    /** The same over the first {@code rows} x {@code cols} of the tile (the edges of C). */
    final void mergePart(float[] tile, float[] c, int cOff, int ldc, float alpha, float beta, int rows, int cols) {
        for (int i = 0; i < rows; i++) {
            int o = cOff + i * ldc, t = i * nr;
            if (beta == 0f) {
                for (int j = 0; j < cols; j++) c[o + j] = alpha * tile[t + j];
            } else {
                for (int j = 0; j < cols; j++) c[o + j] = alpha * tile[t + j] + beta * c[o + j];
            }
        }
    }

    /**
     * The best kernel this JVM can run: the Vector API one when the incubator module was
     * loaded ({@code --add-modules jdk.incubator.vector}), else the scalar one. Decided once;
     * {@code -Dmoesr.scalar=true} forces the scalar kernel.
     */
    static MicroKernel best() { return Holder.BEST; }

    /** Whether {@link #best()} uses the Vector API. */
    static boolean vectorized() { return Holder.BEST != ScalarMicroKernel.INSTANCE; }

    private static final class Holder {
        static final MicroKernel BEST = VectorKernels.choose(MicroKernel.class, "VectorMicroKernel", ScalarMicroKernel.INSTANCE);
    }
}
