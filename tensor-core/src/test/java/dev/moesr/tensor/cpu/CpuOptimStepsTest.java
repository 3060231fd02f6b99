package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.Backend;
import dev.moesr.tensor.backend.Backends;
import dev.moesr.tensor.backend.Storage;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OptimReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The CPU backend's fused Adam / AdamW and EMA updates against the update rules in double precision. */
class CpuOptimStepsTest {
    private static final Backend CPU = Backends.cpu();

    static Stream<Long> seeds() { return Gen.seeds("cpu-optim-steps", 8); }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void adamAndAdamwFollowTheTorchUpdateRules(long seed) {
        Gen g = new Gen(seed);
        for (boolean decoupled : new boolean[] {true, false}) {
            int n = g.nextInt(1, 70_000);   // above the parallel grain too
            float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.05f;
            float[] p0 = g.floats(n, -1, 1);
            double[] p = new double[n], m = new double[n], v = new double[n];
            for (int i = 0; i < n; i++) p[i] = p0[i];
            Storage sp = CPU.upload(p0.clone()), sm = CPU.upload(new float[n]), sv = CPU.upload(new float[n]);
            for (int step = 1; step <= 4; step++) {
                float[] grad = g.floats(n, -1, 1);
                CPU.adamStep(sp, CPU.upload(grad), sm, sv, step, lr, b1, b2, eps, wd, decoupled);
                OptimReference.adamStep(p, m, v, grad, step, lr, b1, b2, eps, wd, decoupled);
            }
            String name = decoupled ? "adamw" : "adam";
            assertClose(name + " parameters", p, CPU.download(sp, 0, n), 1e-5);
            assertClose(name + " first moment", m, CPU.download(sm, 0, n), 1e-5);
            assertClose(name + " second moment", v, CPU.download(sv, 0, n), 1e-4);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void emaMovesTowardsTheWeights(long seed) {
        Gen g = new Gen(seed);
        int n = g.nextInt(1, 150_000);
        float decay = 0.999f;
        float[] e0 = g.floats(n, -1, 1), w = g.floats(n, -1, 1);
        double[] ref = OptimReference.emaUpdate(e0, w, decay);
        Storage ema = CPU.upload(e0.clone());   // upload may wrap the array
        CPU.emaUpdate(ema, CPU.upload(w), (float) (1 - (double) decay));
        assertClose("ema", ref, CPU.download(ema, 0, n), 1e-6);
    }

    @Test
    void badArgumentsAreClearErrors() {
        Storage a = CPU.upload(new float[4]), b = CPU.upload(new float[5]);
        assertThrows(IllegalArgumentException.class, () -> CPU.emaUpdate(a, b, 0.9f));
        assertThrows(IllegalArgumentException.class, () -> CPU.adamStep(a, b, a, a, 1, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, true));
        assertThrows(IllegalArgumentException.class, () -> CPU.adamStep(a, a, a, a, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, true));
    }

    /** max |got - ref| over max |ref| (at least 1e-30) within tol. */
    private static void assertClose(String what, double[] ref, float[] got, double tol) {
        assertEquals(ref.length, got.length, what + ": length");
        double diff = 0, scale = 1e-30;
        for (int i = 0; i < ref.length; i++) {
            diff = Math.max(diff, Math.abs(got[i] - ref[i]));
            scale = Math.max(scale, Math.abs(ref[i]));
        }
        if (!(diff / scale <= tol)) throw new AssertionError(what + ": relative error " + diff / scale + " > " + tol);
    }
}
