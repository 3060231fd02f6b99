package dev.moesr.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * A float exponential from plain vector arithmetic. The Vector API's own EXP is not used: the
 * JIT replaces it by a vendor routine while the interpreter computes it another way, so one
 * input could give two results (a few ulps apart) in the same run, and sampling would not be
 * reproducible. Adds and multiplies are exact IEEE operations in every mode, so this is.
 *
 * <p>exp(x) = 2^n exp(r) with n = round(x / ln 2) and r = x - n ln 2 (ln 2 in two parts, so r
 * is nearly exact), exp(r) by the degree-7 minimax polynomial of Cephes' expf (relative error
 * about 1e-7 on |r| <= ln 2 / 2), and 2^n built in exponent bits (two factors, so 2^128 works). Below -87.3 the result is
 * 0 (no subnormals), above 88.7 it is infinity, NaN stays NaN.
 */
final class VectorMath {
    private VectorMath() {}

    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;   // 1.5 * 2^23: adding it rounds to an integer
    private static final float MAX = 88.7228f, MIN = -87.3365f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    static FloatVector exp(FloatVector x) {
        VectorMask<Float> over = x.compare(VectorOperators.GT, MAX), under = x.compare(VectorOperators.LT, MIN);
        VectorMask<Float> nan = x.test(VectorOperators.IS_NAN);
        FloatVector c = x.max(MIN).min(MAX);
        FloatVector t = c.mul(LOG2E).add(ROUND);   // round(c log2 e) in the low mantissa bits of t
        FloatVector n = t.sub(ROUND);
        FloatVector r = c.sub(n.mul(LN2_HI)).sub(n.mul(LN2_LO));
        FloatVector r2 = r.mul(r);
        FloatVector p = r.mul(P0).add(P1).mul(r).add(P2).mul(r).add(P3).mul(r).add(P4).mul(r).add(P5).mul(r2).add(r).add(1f);
        // 2^n as 2^a * 2^b with a = n >> 1, b = n - a: each factor stays a normal float for n in [-126, 128]
        // n as an int from t's bits, not convert(F2I): JDK 17 does not compile that conversion for
        // 512-bit vectors, and its fallback boxed every vector of this method (about 1 GB of garbage
        // per second in a decoder tile)
        IntVector ni = ((IntVector) t.reinterpretAsInts()).sub(Float.floatToRawIntBits(ROUND));
        IntVector a = ni.lanewise(VectorOperators.ASHR, 1), b = ni.sub(a);
        FloatVector e = p.mul(a.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
                .mul(b.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
        return e.blend(Float.POSITIVE_INFINITY, over).blend(0f, under).blend(x, nan);
    }
}
