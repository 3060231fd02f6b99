package dev.moesr.nn.loss;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LossesTest {

    static Stream<Long> cases() { return Gen.seeds("losses", 25); }

    private static Ref scalar(double v) { return new Ref(new double[] {v}); }

    /** Values of [lo, hi] at least {@code gap} away from every kink in {@code kinks}. */
    private static float[] awayFrom(Gen g, int n, double lo, double hi, double gap, double... kinks) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double x;
            boolean near;
            do {
                x = g.nextDouble(lo, hi);
                near = false;
                for (double k : kinks) near |= Math.abs(x - k) < gap;
            } while (near);
            v[i] = (float) x;
        }
        return v;
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void mse(long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 4, 4);
        Tensor pred = g.leaf(s, -2, 2), target = g.leaf(s, -2, 2);
        OpCheck.of("mse", seed).run(in -> Losses.mse(in[0], in[1]), r -> {
            double sum = 0;
            for (int i = 0; i < r[0].numel(); i++) sum += (r[0].v[i] - r[1].v[i]) * (r[0].v[i] - r[1].v[i]);
            return scalar(sum / r[0].numel());
        }, pred, target);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void l1(long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 4, 4);
        int n = Gen.numel(s);
        float[] t = g.floats(n, -2, 2);
        float[] diff = g.floatsAwayFromZero(n, -2, 2, 0.05);   // keep off the kink of |x| at pred = target
        float[] p = new float[n];
        for (int i = 0; i < n; i++) p[i] = t[i] + diff[i];
        OpCheck.of("l1", seed).run(in -> Losses.l1(in[0], in[1]), r -> {
            double sum = 0;
            for (int i = 0; i < r[0].numel(); i++) sum += Math.abs(r[0].v[i] - r[1].v[i]);
            return scalar(sum / r[0].numel());
        }, Tensor.of(p, s).requiresGrad(), Tensor.of(t, s).requiresGrad());
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void hingeDiscriminator(long seed) {
        Gen g = new Gen(seed);
        int[] sr = g.shape(1, 4, 4), sf = g.shape(1, 4, 4);
        Tensor real = Tensor.of(awayFrom(g, Gen.numel(sr), -3, 3, 0.05, 1), sr).requiresGrad();
        Tensor fake = Tensor.of(awayFrom(g, Gen.numel(sf), -3, 3, 0.05, -1), sf).requiresGrad();
        OpCheck.of("hinge D", seed).run(in -> Losses.hingeDiscriminator(in[0], in[1]), r -> {
            double lr = 0, lf = 0;
            for (double x : r[0].v) lr += Math.max(0, 1 - x);
            for (double x : r[1].v) lf += Math.max(0, 1 + x);
            return scalar(lr / r[0].numel() + lf / r[1].numel());
        }, real, fake);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void hingeGenerator(long seed) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 4, 4);
        OpCheck.of("hinge G", seed).run(in -> Losses.hingeGenerator(in[0]), r -> {
            double sum = 0;
            for (double x : r[0].v) sum += x;
            return scalar(-sum / r[0].numel());
        }, g.leaf(s, -3, 3));
    }

    @Test
    void hingeByHand() {
        Tensor real = Tensor.of(new float[] {2, 0.5f}, 2), fake = Tensor.of(new float[] {-2, 0}, 2);
        // real: relu(1-2)=0, relu(1-0.5)=0.5 -> 0.25; fake: relu(1-2)=0, relu(1+0)=1 -> 0.5
        assertEquals(0.75f, Losses.hingeDiscriminator(real, fake).item(), 0f);
        assertEquals(1f, Losses.hingeGenerator(fake).item(), 0f);
    }

    @Test
    void mismatchedShapesSayBoth() {
        var e = assertThrows(IllegalArgumentException.class, () -> Losses.mse(Tensor.zeros(2, 3), Tensor.zeros(3, 2)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[3, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Losses.l1(Tensor.zeros(0), Tensor.zeros(0)));
    }
}
