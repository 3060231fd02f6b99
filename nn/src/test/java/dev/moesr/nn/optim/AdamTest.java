package dev.moesr.nn.optim;

import dev.moesr.nn.io.SafeTensors;
import dev.moesr.tensor.Scope;
import dev.moesr.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@SuppressWarnings("try")   // scopes in tests only bound a region
class AdamTest {
    @TempDir Path dir;

    /** torch.optim.Adam / AdamW (single-tensor path, amsgrad off), in double, for {@code steps} steps. */
    static double[] reference(int steps, double lr, double b1, double b2, double eps, double wd, boolean decoupled) {
        double[] p = Quadratic.start();
        double[] m = new double[p.length], v = new double[p.length];
        for (int t = 1; t <= steps; t++) {
            double[] g = Quadratic.grad(p);
            for (int i = 0; i < p.length; i++) {
                double gi = g[i];
                if (wd != 0) {
                    if (decoupled) p[i] *= 1 - lr * wd;
                    else gi += wd * p[i];
                }
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                double bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
                double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + eps;
                p[i] -= lr / bc1 * m[i] / denom;
            }
        }
        return p;
    }

    private static void run(Quadratic q, Optimizer opt, int steps) {
        for (int i = 0; i < steps; i++) {
            opt.zeroGrad();
            q.backward();
            opt.step();
        }
    }

    private static void assertClose(double[] expected, double[] got, double tol) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], got[i], tol * (1 + Math.abs(expected[i])), "parameter element " + i);
        }
    }

    @Test
    void firstAdamStepMovesEachWeightByTheLearningRate() {
        // with bias correction, step 1 is p - lr * g / (|g| + eps): a move of lr against the gradient's sign
        Quadratic q = new Quadratic();
        Adam adam = new Adam(q.namedParameters(), 0.1);
        run(q, adam, 1);
        double[] p0 = Quadratic.start(), g = Quadratic.grad(p0), p = q.values();
        for (int i = 0; i < p.length; i++) assertEquals(p0[i] - 0.1 * Math.signum(g[i]), p[i], 1e-6, "element " + i);
        adam.release();
        q.release();
    }

    @Test
    void adamMatchesPyTorchSemanticsOverSeveralSteps() {
        Quadratic q = new Quadratic();
        Adam adam = new Adam(q.namedParameters(), 0.05, 0.9, 0.999, 1e-8, 0);
        run(q, adam, 6);
        assertClose(reference(6, 0.05, 0.9, 0.999, 1e-8, 0, false), q.values(), 2e-6);
        assertEquals(6, adam.stepCount("a"));
        adam.release();
        q.release();
    }

    @Test
    void adamWithL2PenaltyAddsItToTheGradient() {
        Quadratic q = new Quadratic();
        Adam adam = new Adam(q.namedParameters(), 0.02, 0.5, 0.9, 1e-6, 0.1);
        run(q, adam, 5);
        assertClose(reference(5, 0.02, 0.5, 0.9, 1e-6, 0.1, false), q.values(), 2e-6);
        adam.release();
        q.release();
    }

    @Test
    void adamWDecaysTheWeightsDirectly() {
        Quadratic q = new Quadratic();
        AdamW adamW = new AdamW(q.namedParameters(), 0.03, 0.9, 0.999, 1e-8, 0.05);
        run(q, adamW, 5);
        double[] decoupled = reference(5, 0.03, 0.9, 0.999, 1e-8, 0.05, true);
        assertClose(decoupled, q.values(), 2e-6);
        // and that differs from the coupled L2 penalty, so the test tells the two apart
        double[] coupled = reference(5, 0.03, 0.9, 0.999, 1e-8, 0.05, false);
        double diff = 0;
        for (int i = 0; i < coupled.length; i++) diff = Math.max(diff, Math.abs(coupled[i] - decoupled[i]));
        assertTrue(diff > 1e-4, "coupled and decoupled decay differ by " + diff);
        assertEquals(0.01, new AdamW(q.namedParameters(), 1e-3).weightDecay, "PyTorch's AdamW default weight decay");
        adamW.release();
        q.release();
    }

    @Test
    void stepUpdatesTheSameTensorObjects() {
        Quadratic q = new Quadratic();
        Tensor a = q.a.tensor();
        Adam adam = new Adam(q.namedParameters(), 0.1);
        run(q, adam, 2);
        assertSame(a, q.a.tensor());
        assertTrue(a.needsGrad() && a.isLeaf());
        adam.release();
        q.release();
    }

    @Test
    void parametersWithoutGradientsAreLeftAlone() {
        Quadratic q = new Quadratic();
        q.b.setTrainable(false);
        Adam adam = new Adam(q.namedParameters(), 0.1);
        run(q, adam, 3);
        assertArrayEquals(Quadratic.B0, q.b.tensor().toFloatArray());
        assertEquals(0, adam.stepCount("b"));
        assertEquals(3, adam.stepCount("a"));
        adam.release();
        q.release();
    }

    @Test
    void resumingFromSavedStateGivesTheSameTrajectory() throws IOException {
        Quadratic straight = new Quadratic();
        AdamW o1 = new AdamW(straight.namedParameters(), 0.05, 0.9, 0.99, 1e-8, 0.01);
        run(straight, o1, 7);

        Quadratic first = new Quadratic();
        AdamW o2 = new AdamW(first.namedParameters(), 0.05, 0.9, 0.99, 1e-8, 0.01);
        run(first, o2, 4);
        Path model = dir.resolve("model.safetensors"), opt = dir.resolve("opt.safetensors");
        first.save(model, Map.of());
        try (Scope s = Scope.open()) {
            SafeTensors.write(opt, o2.stateDict(), Map.of());
        }

        Quadratic resumed = new Quadratic();
        AdamW o3 = new AdamW(resumed.namedParameters(), 0.05, 0.9, 0.99, 1e-8, 0.01);
        resumed.load(model);
        try (Scope s = Scope.open()) {
            o3.loadStateDict(SafeTensors.read(opt).tensors());
        }
        assertEquals(4, o3.stepCount("a"));
        run(resumed, o3, 3);
        assertArrayEquals(straight.values(), resumed.values(), 0.0, "bit-identical after resuming");
        for (Object o : new Object[] {o1, o2, o3}) ((Optimizer) o).release();
        straight.release();
        first.release();
        resumed.release();
    }

    @Test
    void stateDictHasNamedKeys() {
        Quadratic q = new Quadratic();
        Adam adam = new Adam(q.namedParameters(), 0.1);
        try (Scope s = Scope.open()) {
            assertEquals(java.util.List.of("a.exp_avg", "a.exp_avg_sq", "a.step", "b.exp_avg", "b.exp_avg_sq", "b.step"),
                    new java.util.ArrayList<>(adam.stateDict().keySet()));
        }
        adam.release();
        q.release();
    }

    @Test
    void badOptimiserStateIsRefusedWithTheKeyAndShape() {
        Quadratic q = new Quadratic();
        Adam adam = new Adam(q.namedParameters(), 0.1);
        run(q, adam, 1);
        try (Scope s = Scope.open()) {
            Map<String, Tensor> sd = new LinkedHashMap<>(adam.stateDict());
            sd.put("a.exp_avg", Tensor.zeros(4));
            var e = assertThrows(IllegalArgumentException.class, () -> adam.loadStateDict(sd));
            assertTrue(e.getMessage().contains("'a.exp_avg'") && e.getMessage().contains("[4]") && e.getMessage().contains("[2, 2]"), e.getMessage());

            Map<String, Tensor> sd2 = new LinkedHashMap<>(adam.stateDict());
            sd2.remove("b.step");
            sd2.put("c.exp_avg", Tensor.zeros(1));
            e = assertThrows(IllegalArgumentException.class, () -> adam.loadStateDict(sd2));
            assertTrue(e.getMessage().contains("'b.step'") && e.getMessage().contains("'c.exp_avg'"), e.getMessage());

            Map<String, Tensor> sd3 = new LinkedHashMap<>(adam.stateDict());
            sd3.put("a.step", Tensor.scalar(1.5f));
            e = assertThrows(IllegalArgumentException.class, () -> adam.loadStateDict(sd3));
            assertTrue(e.getMessage().contains("whole number"), e.getMessage());
            assertEquals(1, adam.stepCount("a"), "nothing changed");
        }
        adam.release();
        q.release();
    }

    @Test
    void badHyperparametersAreRefused() {
        Quadratic q = new Quadratic();
        assertThrows(IllegalArgumentException.class, () -> new Adam(q.namedParameters(), -1));
        assertThrows(IllegalArgumentException.class, () -> new Adam(q.namedParameters(), 0.1, 1.0, 0.999, 1e-8, 0));
        assertThrows(IllegalArgumentException.class, () -> new Adam(q.namedParameters(), 0.1, 0.9, 0.999, 1e-8, -0.1));
        assertThrows(IllegalArgumentException.class, () -> new Adam(Map.of(), 0.1));
        Adam adam = new Adam(q.namedParameters(), 0.1);
        assertThrows(IllegalArgumentException.class, () -> adam.setLearningRate(Double.NaN));
        adam.release();
        q.release();
    }
}
