package dev.moesr.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link SiluKernel} on the Vector API, with {@link VectorMath#exp} (reproducible in every JIT state). The
 * tail goes through a masked vector, so every position gets the same arithmetic.
 */
final class VectorSiluKernel extends SiluKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Override void siluInPlace(float[] a, int off, int len) {
        int k = 0;
        for (int full = S.loopBound(len); k < full; k += S.length()) silu(FloatVector.fromArray(S, a, off + k)).intoArray(a, off + k);
        if (k < len) {
            VectorMask<Float> m = S.indexInRange(k, len);
            silu(FloatVector.fromArray(S, a, off + k, m)).intoArray(a, off + k, m);
        }
    }

    @Override void siluGradInPlace(float[] a, int off, float[] g, int gOff, int len) {
        int k = 0;
        for (int full = S.loopBound(len); k < full; k += S.length()) {
            FloatVector.fromArray(S, g, gOff + k).mul(siluGrad(FloatVector.fromArray(S, a, off + k))).intoArray(a, off + k);
        }
        if (k < len) {
            VectorMask<Float> m = S.indexInRange(k, len);
            FloatVector.fromArray(S, g, gOff + k, m).mul(siluGrad(FloatVector.fromArray(S, a, off + k, m))).intoArray(a, off + k, m);
        }
    }

    private static FloatVector silu(FloatVector x) {
        return x.div(VectorMath.exp(x.neg()).add(1f));
    }

    /** silu'(x) = s (1 + x (1 - s)), s = 1 / (1 + exp(-x)). */
    private static FloatVector siluGrad(FloatVector x) {
        FloatVector s = FloatVector.broadcast(S, 1f).div(VectorMath.exp(x.neg()).add(1f));
        return s.mul(x.mul(FloatVector.broadcast(S, 1f).sub(s)).add(1f));
    }
}
