package dev.moesr.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * An 8 x (2 vectors) tile with the Vector API: sixteen accumulators, two B loads and eight
 * broadcasts of A per k step (8 x 32 floats with AVX-512). Only loaded, by name, when the
 * jdk.incubator.vector module is present.
 */
final class VectorMicroKernel extends MicroKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    private static final int MR = 8, NR = 2 * V;

    VectorMicroKernel() { super(MR, NR); }

    @Override void product(int kc, float[] a, int ao, float[] b, int bo, float[] t) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++, ao += MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + V);
            FloatVector x = FloatVector.broadcast(S, a[ao]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ao + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ao + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ao + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ao + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ao + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ao + 6]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ao + 7]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        c00.intoArray(t, 0); c01.intoArray(t, V);
        c10.intoArray(t, NR); c11.intoArray(t, NR + V);
        c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + V);
        c30.intoArray(t, 3 * NR); c31.intoArray(t, 3 * NR + V);
        c40.intoArray(t, 4 * NR); c41.intoArray(t, 4 * NR + V);
        c50.intoArray(t, 5 * NR); c51.intoArray(t, 5 * NR + V);
        c60.intoArray(t, 6 * NR); c61.intoArray(t, 6 * NR + V);
        c70.intoArray(t, 7 * NR); c71.intoArray(t, 7 * NR + V);
    }

    @Override void productIndexed(int kc, float[] a, int ao, float[] x, int xBase, int[] offs, float[] t) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++, ao += MR) {
            int bo = xBase + offs[p];
            FloatVector b0 = FloatVector.fromArray(S, x, bo);
            FloatVector b1 = FloatVector.fromArray(S, x, bo + V);
            FloatVector y = FloatVector.broadcast(S, a[ao]);
            c00 = y.fma(b0, c00); c01 = y.fma(b1, c01);
            y = FloatVector.broadcast(S, a[ao + 1]);
            c10 = y.fma(b0, c10); c11 = y.fma(b1, c11);
            y = FloatVector.broadcast(S, a[ao + 2]);
            c20 = y.fma(b0, c20); c21 = y.fma(b1, c21);
            y = FloatVector.broadcast(S, a[ao + 3]);
            c30 = y.fma(b0, c30); c31 = y.fma(b1, c31);
            y = FloatVector.broadcast(S, a[ao + 4]);
            c40 = y.fma(b0, c40); c41 = y.fma(b1, c41);
            y = FloatVector.broadcast(S, a[ao + 5]);
            c50 = y.fma(b0, c50); c51 = y.fma(b1, c51);
            y = FloatVector.broadcast(S, a[ao + 6]);
            c60 = y.fma(b0, c60); c61 = y.fma(b1, c61);
            y = FloatVector.broadcast(S, a[ao + 7]);
            c70 = y.fma(b0, c70); c71 = y.fma(b1, c71);
        }
        c00.intoArray(t, 0); c01.intoArray(t, V);
        c10.intoArray(t, NR); c11.intoArray(t, NR + V);
        c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + V);
        c30.intoArray(t, 3 * NR); c31.intoArray(t, 3 * NR + V);
        c40.intoArray(t, 4 * NR); c41.intoArray(t, 4 * NR + V);
        c50.intoArray(t, 5 * NR); c51.intoArray(t, 5 * NR + V);
        c60.intoArray(t, 6 * NR); c61.intoArray(t, 6 * NR + V);
        c70.intoArray(t, 7 * NR); c71.intoArray(t, 7 * NR + V);
    }

    @Override void merge(float[] t, float[] c, int cOff, int ldc, float alpha, float beta) {
        for (int i = 0; i < MR; i++) {
            for (int v = 0; v < NR; v += V) {
                int o = cOff + i * ldc + v;
                FloatVector r = FloatVector.fromArray(S, t, i * NR + v);
                if (alpha != 1f) r = r.mul(alpha);
                if (beta != 0f) r = r.add(FloatVector.fromArray(S, c, o).mul(beta));
                r.intoArray(c, o);
            }
        }
    }
}
