package dev.moesr.tensor.cpu;

import dev.moesr.tensor.backend.UnaryOp;
import dev.moesr.tensor.testing.Gen;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The float loops of the cheap unary ops give exactly what the double-precision definition {@code f} gives. */
class CpuElementwiseFastLoopsTest {
    static Stream<Long> seeds() { return Gen.seeds("cpu-fast-unary", 10); }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void fastLoopsAgreeWithTheDefinitionBitForBit(long seed) {
        Gen g = new Gen(seed);
        float[] edge = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE,
                Float.MAX_VALUE, -Float.MAX_VALUE, 1e-40f, -1e-40f};
        float[] x = new float[40_000];
        float[] random = g.floats(x.length - edge.length, -1e6, 1e6);
        System.arraycopy(edge, 0, x, 0, edge.length);
        System.arraycopy(random, 0, x, edge.length, random.length);
        float a = (float) g.nextDouble(0.001, 0.5), b = (float) g.nextDouble(0.5, 3);
        for (UnaryOp op : new UnaryOp[] {UnaryOp.ADD_SCALAR, UnaryOp.MUL_SCALAR, UnaryOp.NEG, UnaryOp.SQUARE, UnaryOp.RELU, UnaryOp.LEAKY_RELU}) {
            CpuStorage in = new CpuStorage(x.clone()), out = new CpuStorage(new float[x.length]);
            CpuElementwise.unary(op, in, out, a, b);
            for (int i = 0; i < x.length; i++) {
                float xi = x[i], want = CpuElementwise.f(op, xi, a, b);
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(out.data[i]),
                        () -> op + " differs from its definition at x = " + xi + " (a = " + a + ")");
            }
        }
    }
}
