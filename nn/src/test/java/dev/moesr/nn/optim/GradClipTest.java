package dev.moesr.nn.optim;

import dev.moesr.nn.InPlace;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GradClipTest {

    private static double referenceNorm() {
        double s = 0;
        for (double g : Quadratic.grad(Quadratic.start())) s += g * g;
        return Math.sqrt(s);
    }

    @Test
    void normIsTheL2NormOfAllGradients() {
        Quadratic q = new Quadratic();
        q.backward();
        assertEquals(referenceNorm(), GradClip.globalNorm(q.parameters()), 1e-5 * referenceNorm());
        q.release();
    }

    @Test
    void largeGradientsAreScaledToTheMaximum() {
        Quadratic q = new Quadratic();
        q.backward();
        double norm = referenceNorm();
        double returned = GradClip.clipGradNorm(q.parameters(), 1.0);
        assertEquals(norm, returned, 1e-5 * norm);
        double coef = 1.0 / (norm + 1e-6);
        double[] g = Quadratic.grad(Quadratic.start());
        float[] ga = q.a.grad().toFloatArray(), gb = q.b.grad().toFloatArray();
        float[] got = {ga[0], ga[1], ga[2], ga[3], gb[0], gb[1]};
        for (int i = 0; i < g.length; i++) assertEquals(g[i] * coef, got[i], 1e-6, "element " + i);
        assertEquals(1.0, GradClip.globalNorm(q.parameters()), 1e-5);
        q.release();
    }

    @Test
    void smallGradientsAreLeftAlone() {
        Quadratic q = new Quadratic();
        q.backward();
        float[] before = q.a.grad().toFloatArray();
        GradClip.clipGradNorm(q.parameters(), 1e6);
        assertArrayEquals(before, q.a.grad().toFloatArray());
        q.release();
    }

    @Test
    void missingGradientsAreSkippedAndNonFiniteNormsChangeNothing() {
        Quadratic q = new Quadratic();
        assertEquals(0.0, GradClip.clipGradNorm(q.parameters(), 1.0), "no gradients at all");
        q.backward();
        InPlace.fill(q.b.grad(), Float.POSITIVE_INFINITY);
        float[] before = q.a.grad().toFloatArray();
        assertTrue(Double.isInfinite(GradClip.clipGradNorm(q.parameters(), 1.0)));
        assertArrayEquals(before, q.a.grad().toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> GradClip.clipGradNorm(q.parameters(), 0));
        q.release();
    }

    @Test
    void linearWarmUpRampsThenHolds() {
        LrSchedule s = LrSchedule.linearWarmup(1e-4, 4);
        assertEquals(0.25e-4, s.at(0), 1e-18);
        assertEquals(0.5e-4, s.at(1), 1e-18);
        assertEquals(1e-4, s.at(3), 1e-18);
        assertEquals(1e-4, s.at(1000), 1e-18);
        assertEquals(1e-4, LrSchedule.linearWarmup(1e-4, 0).at(0), 0.0);
        assertEquals(5e-5, LrSchedule.constant(5e-5).at(7), 0.0);
        Quadratic q = new Quadratic();
        Adam adam = new Adam(q.namedParameters(), 1);
        assertEquals(0.5e-4, s.apply(adam, 1), 1e-18);
        assertEquals(0.5e-4, adam.learningRate(), 1e-18);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.linearWarmup(1e-4, -1));
        assertThrows(IllegalArgumentException.class, () -> s.at(-1));
        adam.release();
        q.release();
    }
}
