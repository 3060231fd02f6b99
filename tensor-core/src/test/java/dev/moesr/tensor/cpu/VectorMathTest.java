package dev.moesr.tensor.cpu;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reproducible vector exponential against Math.exp: within two ulps over the whole float range it covers. */
class VectorMathTest {
    private static final jdk.incubator.vector.VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private static float[] exp(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i + S.length() <= x.length; i += S.length()) VectorMath.exp(FloatVector.fromArray(S, x, i)).intoArray(out, i);
        return out;
    }

    @Test
    void withinTwoUlpsOfTheExactExponential() {
        int n = S.length() * 200_000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -87.3f + 176f * i / n;   // the whole finite, normal range
        float[] got = exp(x);
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double want = Math.exp(x[i]);
            double ulps = Math.abs(got[i] - want) / Math.ulp((float) want);
            worst = Math.max(worst, ulps);
            assertTrue(ulps <= 2, "exp(" + x[i] + ") = " + got[i] + ", exact " + want + ": " + ulps + " ulps");
        }
        System.out.printf("vector exp: worst %.2f ulps over %d points%n", worst, n);
    }

    @Test
    void edgesAreZeroInfinityAndNaN() {
        float[] x = new float[S.length()];
        float[] special = {-1000f, -88f, 0f, 89f, 1000f, Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY};
        float[] want = {0f, 0f, 1f, Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 0f, Float.POSITIVE_INFINITY};
        for (int start = 0; start < special.length; start += x.length) {
            int len = Math.min(x.length, special.length - start);
            System.arraycopy(special, start, x, 0, len);
            float[] got = exp(x);
            for (int i = 0; i < len; i++) assertEquals(want[start + i], got[i], "exp(" + special[start + i] + ")");
        }
    }
}
