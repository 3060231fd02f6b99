package dev.moesr.tensor.ops;

import dev.moesr.tensor.Shape;
import dev.moesr.tensor.Tensor;
import dev.moesr.tensor.testing.Gen;
import dev.moesr.tensor.testing.OpCheck;
import dev.moesr.tensor.testing.Ref;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinaryOpsTest {

    static Stream<Long> cases() { return Gen.seeds("binary", 40); }

    /** Reference broadcast binary op in double. */
    static Ref broadcast(Ref a, Ref b, DoubleBinaryOperator f) {
        int[] os = Shape.broadcast(Shape.of(a.shape), Shape.of(b.shape)).dims();
        Ref out = Ref.zeros(os);
        for (int i = 0; i < out.numel(); i++) {
            int[] idx = out.index(i);
            out.v[i] = f.applyAsDouble(a.broadcastGet(idx), b.broadcastGet(idx));
        }
        return out;
    }

    private static void check(String name, long seed, BinaryOperator<Tensor> op, DoubleBinaryOperator ref,
                              double lo, double hi, double gap) {
        Gen g = new Gen(seed);
        int[] sa = g.shape(0, 4, 5);
        int[] sb = g.broadcastPartner(sa);
        if (g.nextBoolean()) { int[] t = sa; sa = sb; sb = t; }
        Tensor a = Tensor.of(g.floatsAwayFromZero(Gen.numel(sa), lo, hi, gap), sa).requiresGrad();
        Tensor b = Tensor.of(g.floatsAwayFromZero(Gen.numel(sb), lo, hi, gap), sb).requiresGrad();
        OpCheck.of(name, seed).run(in -> op.apply(in[0], in[1]), r -> broadcast(r[0], r[1], ref), a, b);
    }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void add(long seed) { check("add", seed, Tensor::add, Double::sum, -2, 2, 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void sub(long seed) { check("sub", seed, Tensor::sub, (x, y) -> x - y, -2, 2, 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void mul(long seed) { check("mul", seed, Tensor::mul, (x, y) -> x * y, -2, 2, 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void div(long seed) { check("div", seed, Tensor::div, (x, y) -> x / y, -2, 2, 0.3); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void pow(long seed) { check("pow", seed, Tensor::pow, Math::pow, 0.3, 2, 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void maximum(long seed) { check("maximum", seed, Tensor::maximum, Math::max, -2, 2, 0); }

    @ParameterizedTest(name = "seed {0}") @MethodSource("cases")
    void minimum(long seed) { check("minimum", seed, Tensor::minimum, Math::min, -2, 2, 0); }

    @Test
    void comparisonsGiveMasks() {
        Tensor a = Tensor.of(new float[] {1, 2, 3}, 3);
        Tensor b = Tensor.of(new float[] {2}, 1);
        assertArrayEquals(new float[] {0, 1, 0}, a.eq(b).toFloatArray());
        assertArrayEquals(new float[] {0, 0, 1}, a.gt(b).toFloatArray());
        assertArrayEquals(new float[] {1, 0, 0}, a.lt(b).toFloatArray());
        assertArrayEquals(new float[] {0, 1, 1}, a.ge(b).toFloatArray());
        assertArrayEquals(new float[] {1, 1, 0}, a.le(b).toFloatArray());
    }

    @Test
    void emptyDimensionsBroadcast() {
        Tensor a = Tensor.zeros(0, 3);
        Tensor b = Tensor.ones(3);
        Tensor c = a.add(b);
        assertArrayEquals(new int[] {0, 3}, c.dims());
        assertTrue(c.toFloatArray().length == 0);
    }

    @Test
    void incompatibleShapesSayWhich() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(2, 3).add(Tensor.zeros(4)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
    }
}
