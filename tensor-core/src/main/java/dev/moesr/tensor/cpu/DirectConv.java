package dev.moesr.tensor.cpu;

import java.util.Arrays;

/**
 * Convolution with stride 1 along the width, computed from a zero-padded copy of one image:
 * a tile of C is mr output channels by nr neighbouring outputs of one output row, and the
 * micro-kernel reads its B operand in place ({@link MicroKernel#productIndexed}): for input
 * channel c and kernel tap (r, s), those nr inputs are contiguous in the padded row. Nothing
 * like an im2col matrix is packed, which matters when there are few output channels to share
 * the cost of packing it (64 channels: about a quarter of the time of the implicit GEMM).
 */
final class DirectConv {
    private DirectConv() {}

    /** Whether the direct path suits: unit stride along the width and output rows that fill at least 3/4 of the tiles' lanes. */
    static boolean suits(MicroKernel kern, int strideW, int outW) {
        if (strideW != 1) return false;
        int lanes = ceilDiv(outW, kern.nr) * kern.nr;
        return 4L * outW >= 3L * lanes;
    }

    /** The weights of one group, {@code cout x k} row-major at {@code off}, packed into the kernel's slivers of mr rows. */
    static float[] packWeights(MicroKernel kern, float[] w, int off, int cout, int k) {
        float[] packed = new float[ceilDiv(cout, kern.mr) * kern.mr * k];
        new GemmDriver.Dense(w, off, k, false).packLeft(packed, 0, cout, 0, k, kern.mr);
        return packed;
    }

    /**
     * One image and group: {@code out[o, y, x] = sum_{c, r, s} w[o, c, r, s] * in[c, y*sh - ph + r*dh, x - pw + s*dw]},
     * zero outside the input (padding may be negative: the input is then cropped). {@code in} is
     * [cin, h, wd] at inOff, {@code out} [cout, oh, ow] at outOff (written, not read), and the
     * weights come packed by {@link #packWeights}.
     */
    static void image(MicroKernel kern, float[] in, int inOff, int cin, int h, int wd, float[] packedWeights, int cout,
                      int kh, int kw, int sh, int ph, int pw, int dh, int dw,
                      float[] out, int outOff, int oh, int ow, boolean parallel) {
        final int mr = kern.mr, nr = kern.nr;
        final int tilesPerRow = ceilDiv(ow, nr);
        // padded so that every tile's reads, full nr lanes at every tap, stay inside its own rows
        final int hp = (oh - 1) * sh + dh * (kh - 1) + 1;
        final int wp = tilesPerRow * nr + dw * (kw - 1);
        final float[] padded = pad(in, inOff, cin, h, wd, hp, wp, ph, pw);
        final int k = cin * kh * kw;
        final int[] offs = new int[k];
        for (int c = 0, q = 0; c < cin; c++)
            for (int r = 0; r < kh; r++)
                for (int s = 0; s < kw; s++) offs[q++] = (c * hp + r * dh) * wp + s * dw;
        final int plane = oh * ow, blocks = ceilDiv(cout, mr);
        boolean split = parallel && (long) cout * plane * k >= GemmDriver.PARALLEL_MIN_FMAS;
        Parallel.forRange(oh * tilesPerRow, split ? 1 : Integer.MAX_VALUE, (t0, t1) -> {
            float[] tile = new float[mr * nr];
            for (int t = t0; t < t1; t++) {
                int y = t / tilesPerRow, x0 = (t % tilesPerRow) * nr;
                int cols = Math.min(nr, ow - x0);
                int xBase = y * sh * wp + x0;
                for (int b = 0; b < blocks; b++) {
                    int rows = Math.min(mr, cout - b * mr);
                    kern.productIndexed(k, packedWeights, b * k * mr, padded, xBase, offs, tile);
                    int at = outOff + b * mr * plane + y * ow + x0;
                    if (rows == mr && cols == nr) kern.merge(tile, out, at, plane, 1f, 0f);
                    else kern.mergePart(tile, out, at, plane, 1f, 0f, rows, cols);
                }
            }
        });
    }

    /** The padded image of the last call on this thread, reused: a fresh one per call kept the garbage collector busy. */
    private static final ThreadLocal<float[]> PADDED = ThreadLocal.withInitial(() -> new float[0]);

    /** {@code p[c, i, j] = in[c, i - ph, j - pw]} inside the input, 0 elsewhere, for i < hp and j < wp. */
    private static float[] pad(float[] in, int inOff, int cin, int h, int wd, int hp, int wp, int ph, int pw) {
        float[] p = PADDED.get();
        if (p.length < cin * hp * wp) PADDED.set(p = new float[cin * hp * wp]);
        int jFrom = Math.max(0, pw), jTo = Math.max(jFrom, Math.min(wp, wd + pw));   // columns of p that lie inside the input
        int iFrom = Math.max(0, ph), iTo = Math.max(iFrom, Math.min(hp, h + ph));
        for (int c = 0; c < cin; c++) {
            int plane = c * hp * wp;
            Arrays.fill(p, plane, plane + iFrom * wp, 0f);
            for (int i = iFrom; i < iTo; i++) {
                int row = plane + i * wp;
                Arrays.fill(p, row, row + jFrom, 0f);
                System.arraycopy(in, inOff + (c * h + i - ph) * wd + jFrom - pw, p, row + jFrom, jTo - jFrom);
                Arrays.fill(p, row + jTo, row + wp, 0f);
            }
            Arrays.fill(p, plane + iTo * wp, plane + hp * wp, 0f);
        }
        return p;
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }
}
