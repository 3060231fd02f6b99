package dev.moesr.tensor.cpu;

import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** The float exponential of softmax, vector and scalar, against Math.exp in double. */
class ExpKernelTest {
    static Stream<Long> cases() { return Gen.seeds("exp-kernel", 20); }

    /** Every length from 0 up to a few vectors (main loop and masked tail), at offsets, with large negative arguments (underflow to 0). */
    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void bothKernelsMatchTheDoubleExponentialAndSumIt(long seed) {
        Gen g = new Gen(seed);
        int len = g.nextInt(0, 70), sOff = g.nextInt(0, 5), dOff = g.nextInt(0, 5);
        float[] src = g.floats(sOff + len + 2, -30, 5);
        if (len > 1) { src[sOff] = -200f; src[sOff + 1] = 5f; }
        float shift = 5f;
        for (ExpKernel k : new ExpKernel[] {ExpKernel.best(), ExpKernel.Scalar.INSTANCE}) {
            float[] dst = new float[dOff + len + 3];
            java.util.Arrays.fill(dst, -7f);
            double sum = k.expShifted(src, sOff, dst, dOff, len, shift);
            double want = 0;
            for (int i = 0; i < dst.length; i++) {
                boolean inside = i >= dOff && i < dOff + len;
                // the argument is the float difference (as on the GPU); exp itself within an ulp or two
                double e = inside ? Math.exp((float) (src[sOff + i - dOff] - shift)) : -7;
                if (inside) want += e;
                String at = k.getClass().getSimpleName() + " at " + i + " of a run of " + len;
                assertEquals(e, dst[i], 4e-7 * Math.abs(e) + 1e-44, at);
            }
            assertEquals(want, sum, 1e-6 * want + 1e-30, k.getClass().getSimpleName() + " sum of " + len);
        }
    }

    @Test
    void theVectorKernelIsUsedWhenTheModuleIsLoaded() {
        assumeFalse(Boolean.getBoolean("moesr.scalar"), "the scalar kernels were forced");
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "tests should run with the Vector API module");
        assertNotSame(ExpKernel.Scalar.INSTANCE, ExpKernel.best());
    }
}
