package dev.moesr.tensor.ops;

import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;

class LinearOpTest {

    static Stream<Long> cases() { return Gen.seeds("linear", 40); }

    /** y[..., o] = sum_i x[..., i] w[o, i] in double. */
    static Ref linearRef(Ref x, Ref w) {
        int in = w.shape[1], outF = w.shape[0];
        int rows = x.numel() / in;
        int[] shape = Arrays.copyOf(x.shape, x.shape.length);
        shape[shape.length - 1] = outF;
        Ref y = Ref.zeros(shape);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outF; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) s += x.v[r * in + i] * w.v[o * in + i];
                y.v[r * outF + o] = s;
            }
        }
        return y;
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void linearMatchesTheDefinition(long seed) {
        Gen g = new Gen(seed);
        int in = g.nextInt(1, 9), out = g.nextInt(1, 9);
        int[] lead = g.shape(0, 3, 4);
        int[] xs = Arrays.copyOf(lead, lead.length + 1);
        xs[lead.length] = in;
        OpCheck.of("linear", seed).run(t -> t[0].linear(t[1]), r -> linearRef(r[0], r[1]), g.leaf(xs, -1, 1), g.leaf(new int[] {out, in}, -1, 1));
    }

    @Test
    void mismatchedWeightsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).linear(Tensor.zeros(4, 5)));
        assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).linear(Tensor.zeros(3)));
    }
}
