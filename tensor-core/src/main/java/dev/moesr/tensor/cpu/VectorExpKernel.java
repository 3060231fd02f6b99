package dev.moesr.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** {@link ExpKernel} on the Vector API with {@link VectorMath#exp} (reproducible); the tail goes through a masked vector. */
final class VectorExpKernel extends ExpKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    @Override double expShifted(float[] src, int sOff, float[] dst, int dOff, int len, float shift) {
        double sum = 0;
        int k = 0;
        for (int full = S.loopBound(len); k < full; k += S.length()) {
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, src, sOff + k).sub(shift));
            e.intoArray(dst, dOff + k);
            sum += e.reduceLanes(VectorOperators.ADD);   // a vector's worth in float, then into the double total
        }
        if (k < len) {
            VectorMask<Float> m = S.indexInRange(k, len);
            FloatVector e = VectorMath.exp(FloatVector.fromArray(S, src, sOff + k, m).sub(shift));
            e.intoArray(dst, dOff + k, m);
            sum += e.reduceLanes(VectorOperators.ADD, m);
        }
        return sum;
    }
}
