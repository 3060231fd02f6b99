package dev.moesr.nn.layers;

import dev.moesr.nn.Layer;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationsTest {

    static Stream<Long> cases() { return Gen.seeds("activations", 20); }

    /** erf by its Taylor series: accurate to ~1e-12 for |x| <= 4, plenty for float32 checks. */
    static double erf(double x) {
        double term = x, sum = x;
        for (int n = 1; n < 200; n++) {
            term *= -x * x / n;
            double add = term / (2 * n + 1);
            sum += add;
            if (Math.abs(add) < 1e-17) break;
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    private static void check(String name, long seed, Layer layer, DoubleUnaryOperator f, double gap) {
        Gen g = new Gen(seed);
        int[] s = g.shape(1, 4, 5);
        Tensor x = Tensor.of(g.floatsAwayFromZero(Gen.numel(s), -4, 4, gap), s).requiresGrad();
        OpCheck.of(name, seed).run(in -> layer.forward(in[0]), r -> {
            Ref out = Ref.zeros(r[0].shape);
            for (int i = 0; i < out.numel(); i++) out.v[i] = f.applyAsDouble(r[0].v[i]);
            return out;
        }, x);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void silu(long seed) { check("SiLU", seed, new SiLU(), x -> x / (1 + Math.exp(-x)), 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void gelu(long seed) { check("GELU", seed, new GELU(), x -> 0.5 * x * (1 + erf(x / Math.sqrt(2))), 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void geluTanh(long seed) {
        check("GELU tanh", seed, new GELU(true), x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))), 0);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void relu(long seed) { check("ReLU", seed, new ReLU(), x -> Math.max(x, 0), 0.05); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void leakyRelu(long seed) { check("LeakyReLU", seed, new LeakyReLU(0.1f), x -> x >= 0 ? x : 0.1 * x, 0.05); }

    @Test
    void defaultLeakySlopeIsPyTorchs() {
        assertTrue(new LeakyReLU().negativeSlope == 0.01f);
    }

    @Test
    void identityReturnsItsInput() {
        Tensor x = Tensor.ones(2, 3);
        assertSame(x, new Identity().forward(x));
        x.release();
    }
}
