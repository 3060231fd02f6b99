package dev.moesr.cudakernels;

import dev.moesr.tensor.backend.Storage;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OptimReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.moesr.cudakernels.Gpu.assertClose;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The optimiser kernels (fused AdamW, EMA, expert averaging) against double-precision loops
 * written here, as the CPU has no counterpart in the Backend interface yet.
 */
@Tag("gpu")
class OptimKernelsTest {
    private CudaBackend gpu;
    private final List<Storage> live = new ArrayList<>();

    static Stream<Long> seeds() { return Gen.seeds("cuda-optim-kernels", 8); }

    @BeforeEach
    void open() { gpu = Gpu.backend(); }

    @AfterEach
    void release() {
        for (Storage s : live) s.release();
        live.clear();
    }

    private Storage up(float[] v) {
        Storage s = gpu.upload(v);
        live.add(s);
        return s;
    }

    private float[] down(Storage s) { return gpu.download(s, 0, (int) s.length()); }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void adamMatchesTheTorchUpdateRules(long seed) {
        Gen g = new Gen(seed);
        boolean decoupled = (seed & 1) == 0;   // AdamW, else Adam with an L2 term
        int n = g.nextInt(1, 3000);
        float lr = 1e-3f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, wd = 0.01f;
        double[] p = new double[n], m = new double[n], v = new double[n];
        float[] p0 = g.floats(n, -1, 1);
        for (int i = 0; i < n; i++) p[i] = p0[i];
        Storage sp = up(p0), sm = up(new float[n]), sv = up(new float[n]);
        for (int step = 1; step <= 5; step++) {
            float[] grad = g.floats(n, -1, 1);
            Storage sg = up(grad);
            gpu.adamStep(sp, sg, sm, sv, step, lr, b1, b2, eps, wd, decoupled);
            OptimReference.adamStep(p, m, v, grad, step, lr, b1, b2, eps, wd, decoupled);
        }
        String name = decoupled ? "adamw" : "adam";
        assertClose(name + " parameters after 5 steps", toFloat(p), down(sp), 1e-5);
        assertClose(name + " first moment", toFloat(m), down(sm), 1e-5);
        assertClose(name + " second moment", toFloat(v), down(sv), 1e-4);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void emaAndExpertAverage(long seed) {
        Gen g = new Gen(seed);
        int n = g.nextInt(1, 5000);
        float decay = 0.999f;
        float[] e0 = g.floats(n, -1, 1), w = g.floats(n, -1, 1);
        Storage ema = up(e0), param = up(w);
        gpu.emaUpdate(ema, param, (float) (1 - (double) decay));
        assertClose("ema", toFloat(OptimReference.emaUpdate(e0, w, decay)), down(ema), 1e-6);

        int experts = g.pick(new Integer[] {1, 4, 16, 17, 40});
        List<Storage> xs = new ArrayList<>();
        double[] mean = new double[n];
        for (int k = 0; k < experts; k++) {
            float[] x = g.floats(n, -2, 2);
            for (int i = 0; i < n; i++) mean[i] += x[i] / (double) experts;
            xs.add(up(x));
        }
        Storage out = up(g.floats(n, 100, 200));   // garbage: the first chunk overwrites
        gpu.averageInto(out, xs);
        assertClose("average of " + experts + " experts", toFloat(mean), down(out), 1e-6);
    }

    @Test
    void badArgumentsAreClearErrors() {
        Storage a = up(new float[4]), b = up(new float[5]);
        assertThrows(IllegalArgumentException.class, () -> gpu.emaUpdate(a, b, 0.9f));
        assertThrows(IllegalArgumentException.class, () -> gpu.adamStep(a, a, a, a, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, true));
        assertThrows(IllegalArgumentException.class, () -> gpu.averageInto(a, List.of()));
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }
}
