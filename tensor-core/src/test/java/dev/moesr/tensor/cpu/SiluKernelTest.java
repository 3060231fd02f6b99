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

/** The float SiLU of the fused group norm, vector and scalar, against double formulas. */
class SiluKernelTest {
    static Stream<Long> cases() { return Gen.seeds("silu-kernel", 20); }

    static double silu(double a) { return a / (1 + Math.exp(-a)); }

    static double siluGrad(double a) {
        double s = 1 / (1 + Math.exp(-a));
        return s * (1 + a * (1 - s));
    }

    /** Every length from 0 up to a few vectors (main loop and masked tail), at an offset in the array. */
    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void bothKernelsMatchTheDoubleFormulas(long seed) {
        Gen g = new Gen(seed);
        int len = g.nextInt(0, 70), off = g.nextInt(0, 5);
        float[] a = g.floats(off + len + 3, -12, 12), grad = g.floats(len + 2, -1, 1);
        if (len > 2) { a[off] = 100f; a[off + 1] = -100f; a[off + 2] = 0f; }
        for (SiluKernel k : new SiluKernel[] {SiluKernel.best(), SiluKernel.Scalar.INSTANCE}) {
            float[] y = a.clone(), gy = a.clone();
            k.siluInPlace(y, off, len);
            k.siluGradInPlace(gy, off, grad, 1, len);
            for (int i = 0; i < a.length; i++) {
                boolean inside = i >= off && i < off + len;
                double wantY = inside ? silu(a[i]) : a[i];
                double wantG = inside ? grad[i - off + 1] * siluGrad(a[i]) : a[i];
                String at = k.getClass().getSimpleName() + " at " + i + " of a run [" + off + ", " + (off + len) + ") for " + a[i];
                assertEquals(wantY, y[i], 4e-7 * (1 + Math.abs(wantY)), "silu " + at);
                assertEquals(wantG, gy[i], 4e-7 * (1 + Math.abs(wantG)), "silu gradient " + at);
            }
        }
    }

    @Test
    void theVectorKernelIsUsedWhenTheModuleIsLoaded() {
        // the test JVM runs with --add-modules jdk.incubator.vector (see the parent POM)
        assumeFalse(Boolean.getBoolean("moesr.scalar"), "the scalar kernels were forced");
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "tests should run with the Vector API module");
        assertNotSame(SiluKernel.Scalar.INSTANCE, SiluKernel.best());
    }
}
